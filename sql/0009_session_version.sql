-- Sessions that end: every cookie and token carries the session version of its user at issue time (claim "sv"); a log-out
-- or a password change increments it, and the per-request user check refuses any cookie or token with an older one.
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS session_version integer NOT NULL DEFAULT 0;

-- Throttle keys now also include 'pair:<SHA-256 of address key | lower-case name>' (failures of one name from one address).
