//! Generates the UI's TypeScript declarations from these types and fails when the checked-in
//! file is stale. Regenerate with:
//! `CONFAB_UPDATE_TS=1 cargo test -p confab-proto --features ts typescript`.

use ts_rs::TS;

use crate::http::*;
use crate::*;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ui/src/protocol/generated.ts"
);

macro_rules! decls {
    ($($t:ty),* $(,)?) => {
        vec![$( format!("export {}", <$t>::decl()) ),*]
    };
}

fn render() -> String {
    let decls = decls![
        ErrorCode,
        WireError,
        RegisterRequest,
        LoginRequest,
        LoginResponse,
        ErrorBody,
        Request,
        AuthRequest,
        GetUser,
        UpdateProfile,
        RevokeDevice,
        DevicesResponse,
        Target,
        SendRequest,
        SendResponse,
        SyncResponse,
        ConversationRef,
        HistoryRequest,
        HistoryResponse,
        MarkRead,
        MarkReadResponse,
        RecallRequest,
        CreateGroup,
        MembersRequest,
        MembersResponse,
        ReadByRequest,
        ReadByResponse,
        PresenceRequest,
        PresenceResponse,
        Empty,
        UserPublic,
        Device,
        ConversationKind,
        Role,
        Content,
        SystemEvent,
        Message,
        ConversationSummary,
        Member,
        Presence,
        Event,
        Hello,
        Limits,
        ReadEvent,
        TypingEvent,
        SearchUsers,
        UsersPage,
        UserRef,
        FriendRequestSend,
        FriendRequest,
        FriendRequestsResponse,
        Friend,
        FriendsResponse,
        SetFriendRemark,
        BlockedResponse,
        DirectPolicy,
        Settings,
        ContactEvent,
        JoinPolicy,
        GroupInfo,
        GroupUsers,
        GroupUser,
        GroupJoin,
        JoinOutcome,
        GroupJoinResponse,
        JoinRequest,
        JoinRequestsResponse,
        GroupSetRole,
        GroupUpdate,
        GroupText,
        GroupMute,
        InviteCodeRequest,
        InviteCodeResponse,
        SetMuted,
        ConversationChanged,
        MediaKind,
        MediaRef,
        Thumbnail,
        UploadResponse,
        MediaUrlRequest,
        MediaUrlResponse,
        AssistantReply,
        ReplyStatus,
        AssistantFailure,
        AssistantDelta,
        AssistantStop,
        AssistantStopResponse,
        AssistantSummarize,
        AssistantTranslate,
        AssistantTaskResponse,
        AssistantTaskKind,
        AssistantResult,
        AssistantStatus,
    ];
    let mut out = String::from(
        "// Generated from confab-proto by `CONFAB_UPDATE_TS=1 cargo test -p confab-proto \
         --features ts typescript`.\n// Do not edit by hand.\n\n",
    );
    out.push_str(&format!(
        "export const PROTOCOL_VERSION = {};\n\n",
        crate::PROTOCOL_VERSION
    ));
    for d in decls {
        // Ids, seqs and times are integers far below 2^53: plain numbers in TypeScript.
        out.push_str(&d.replace("bigint", "number"));
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn typescript_declarations_are_current() {
    let fresh = render();
    if std::env::var_os("CONFAB_UPDATE_TS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        current == fresh,
        "ui/src/protocol/generated.ts is stale: run \
         `CONFAB_UPDATE_TS=1 cargo test -p confab-proto --features ts typescript`"
    );
}
