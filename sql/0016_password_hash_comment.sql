-- New password hashes are Argon2id PHC strings; hashes written earlier (ASP.NET Core Identity v3, PBKDF2) still verify
-- and are replaced by Argon2id ones at the user's next log-in. Owned by the Auth module.
COMMENT ON COLUMN auth.users.password_hash IS
    'Argon2id PHC string ($argon2id$v=19$m=...,t=...,p=1$salt$tag), or an earlier PBKDF2 hash (ASP.NET Core Identity v3) until the next log-in; never the password';
