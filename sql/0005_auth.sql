-- Users of the API and the web UI, and the state that throttles password guessing. Owned by the Auth module.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    password_hash text        NOT NULL,            -- ASP.NET Core PasswordHasher v3 (PBKDF2), never the password
    role          text        NOT NULL CHECK (role IN ('user', 'model-admin', 'admin')),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- 'Alice' and 'alice' are the same person.
CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON auth.users (lower(username));

-- One row per throttled key: 'user:<SHA-256 of the lower-case name>' or 'address:<client IP or IPv6 /64>'. Rows are forgotten after the window.
CREATE TABLE IF NOT EXISTS auth.login_throttle (
    key             text        PRIMARY KEY,
    failures        integer     NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz
);
CREATE INDEX IF NOT EXISTS login_throttle_last_failure_idx ON auth.login_throttle (last_failure_at);
