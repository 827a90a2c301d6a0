-- Confab schema, SQLite dialect. Version 1.
-- Times are milliseconds since the Unix epoch.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    avatar        TEXT,
    status_text   TEXT,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER,
    -- Who may open a direct chat: 'friends_only' or 'anyone'.
    direct_policy TEXT    NOT NULL DEFAULT 'friends_only'
);

-- One row per logged-in device. Only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    token_hash   BLOB    NOT NULL UNIQUE,
    device_name  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    name          TEXT    NOT NULL DEFAULT '',
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Seq of the newest message or event; assigned in the transaction that stores it.
    last_seq      INTEGER NOT NULL DEFAULT 0,
    last_activity INTEGER NOT NULL,
    -- Group settings.
    avatar        TEXT,
    announcement  TEXT,
    join_policy   TEXT    NOT NULL DEFAULT 'approval'
                          CHECK (join_policy IN ('free', 'approval', 'invite_only')),
    mute_all      INTEGER NOT NULL DEFAULT 0,
    invite_code   TEXT,
    dissolved_at  INTEGER
);
CREATE UNIQUE INDEX conversations_invite_code ON conversations(invite_code)
    WHERE invite_code IS NOT NULL;

-- The one direct conversation between two users (user_lo < user_hi).
CREATE TABLE direct_pairs (
    user_lo         INTEGER NOT NULL,
    user_hi         INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations(id),
    PRIMARY KEY (user_lo, user_hi)
) WITHOUT ROWID;

-- Membership, past and present. A member sees seqs in (joined_seq, left_seq].
CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    role            TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin', 'owner')),
    joined_at       INTEGER NOT NULL,
    joined_seq      INTEGER NOT NULL DEFAULT 0,
    read_seq        INTEGER NOT NULL DEFAULT 0,
    left_seq        INTEGER,
    nickname        TEXT,
    muted_until     INTEGER,
    -- Private to this member.
    remark          TEXT,
    notifications_muted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id, conversation_id);

-- Messages and system events. body is the JSON content, NULL once recalled (erased).
CREATE TABLE messages (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    sender_id       INTEGER NOT NULL,
    client_msg_id   TEXT,
    kind            TEXT    NOT NULL
                    CHECK (kind IN ('text', 'system', 'recalled', 'image', 'file', 'voice', 'video')),
    body            TEXT,
    reply_to        INTEGER,
    mentions        TEXT,
    mention_all     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_client_msg_id ON messages(sender_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- Friendship is stored once per direction, so each side keeps its own remark.
CREATE TABLE friends (
    user_id   INTEGER NOT NULL REFERENCES users(id),
    friend_id INTEGER NOT NULL REFERENCES users(id),
    remark    TEXT,
    since     INTEGER NOT NULL,
    PRIMARY KEY (user_id, friend_id)
) WITHOUT ROWID;

CREATE TABLE friend_requests (
    from_id    INTEGER NOT NULL REFERENCES users(id),
    to_id      INTEGER NOT NULL REFERENCES users(id),
    note       TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID;
CREATE INDEX friend_requests_to ON friend_requests(to_id);

CREATE TABLE blocks (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    blocked_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
) WITHOUT ROWID;

CREATE TABLE join_requests (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    note            TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- ---------------------------------------------------------------------------------------------
-- Integration: API keys, users managed by a business system, bots, webhooks.
-- ---------------------------------------------------------------------------------------------

-- A server API key. The secret is `cfk_<prefix>_<secret>`; `prefix` finds the row and only the
-- SHA-256 of the whole key is kept. `scopes` is a comma-separated list.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL UNIQUE,
    secret_hash  BLOB    NOT NULL,
    scopes       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- What the integration API knows of a user beyond `users`: the business system's id for them,
-- whether the account is a bot, and whether it was disabled.
CREATE TABLE integration_users (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    external_id TEXT    UNIQUE,
    bot         INTEGER NOT NULL DEFAULT 0,
    disabled_at INTEGER
);

-- A webhook endpoint. `events` is a comma-separated list of event types; `secret` signs the
-- deliveries, so it is kept as given (it is not a credential to this server).
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- One event sent (or being sent) to one webhook, with the outcome of its last attempt.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

-- ---- Media ----------------------------------------------------------------------------------
-- Blobs are content-addressed: id is the lowercase hex SHA-256 of the bytes, stored once however
-- often it is uploaded. content is the JSON message content built at upload (metadata, thumbnail
-- size); name is the first uploader's sanitized file name.
CREATE TABLE media (
    id         TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('image', 'voice', 'video', 'file')),
    mime       TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    name       TEXT,
    content    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who uploaded a blob: the uploader may always fetch it and send it.
CREATE TABLE media_uploads (
    media_id   TEXT    NOT NULL REFERENCES media(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (media_id, user_id)
) WITHOUT ROWID;

-- Which message refers to which blob: current members of those conversations may fetch it.
CREATE TABLE message_media (
    media_id        TEXT    NOT NULL REFERENCES media(id),
    conversation_id INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (media_id, conversation_id, seq)
) WITHOUT ROWID;
CREATE INDEX message_media_message ON message_media(conversation_id, seq);
