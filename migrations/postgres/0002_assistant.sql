-- The AI assistant, PostgreSQL dialect. Version 2 (the same as sqlite/0002_assistant.sql).

-- Automated accounts (the assistant bot); clients show them differently.
ALTER TABLE users ADD COLUMN is_bot BOOLEAN NOT NULL DEFAULT FALSE;

-- Groups where `@assistant` gets an answer (owners and admins switch it).
ALTER TABLE conversations ADD COLUMN assistant_enabled BOOLEAN NOT NULL DEFAULT FALSE;
