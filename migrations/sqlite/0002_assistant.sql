-- The AI assistant. Version 2.

-- Automated accounts (the assistant bot); clients show them differently.
ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;

-- Groups where `@assistant` gets an answer (owners and admins switch it).
ALTER TABLE conversations ADD COLUMN assistant_enabled INTEGER NOT NULL DEFAULT 0;
