-- Size: the two unique indexes on the 32-byte token hashes took ~90 of the
-- ~340 bytes a token cost (a SHA-256 value is random, so a hash index also
-- fills its pages worst). An index on the first 8 bytes finds a token as
-- fast — 2^64 values, so among tens of millions of tokens a probe meets a
-- second candidate about never, and the query compares the full hash in
-- the row anyway — at 18 bytes a token instead of 45.
--
-- An 8-byte key cannot be UNIQUE: two different hashes may share it. The
-- store enforces uniqueness of the full hashes itself (checkTokenHashes in
-- tokens.go), which is sound because every write goes through its single
-- writer; see writer.go.
--
-- On a large existing database this builds two indexes over every token
-- once (tens of seconds for ten million). The dropped indexes' pages are
-- reused by new tokens; VACUUM returns them to the file system at once.
DROP INDEX tokens_access_hash;
DROP INDEX tokens_refresh_hash;
CREATE INDEX tokens_access_key ON tokens (substr(access_hash, 1, 8));
CREATE INDEX tokens_refresh_key ON tokens (substr(refresh_hash, 1, 8)) WHERE refresh_hash IS NOT NULL;
