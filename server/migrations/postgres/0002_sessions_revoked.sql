-- Cluster mode reads the sessions revoked lately every second (a revocation another instance announced
-- over Redis may have been lost): by revocation time, revoked sessions only.
CREATE INDEX sessions_revoked ON sessions (revoked_at_ms) WHERE revoked_at_ms IS NOT NULL;
