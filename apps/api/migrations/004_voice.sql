-- Up Migration
-- Generated speech and answer feedback.

-- Audio lives in Postgres rather than on a worker's disk, so whichever PM2 worker gets the request can
-- serve a file another worker synthesized. Rows are swept after AUDIO_TTL_HOURS (24 h by default).
CREATE TABLE audio_files (
  filename varchar(128) PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  content_type varchar(64) NOT NULL,
  byte_size integer NOT NULL CHECK (byte_size >= 0),
  etag varchar(64) NOT NULL,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- WAV barely compresses; EXTERNAL (out of line, uncompressed) lets substring() read only the TOAST
-- chunks a Range request needs instead of the whole value.
ALTER TABLE audio_files ALTER COLUMN bytes SET STORAGE EXTERNAL;
CREATE INDEX audio_files_created_at_idx ON audio_files (created_at);
CREATE INDEX audio_files_user_idx ON audio_files (user_id);

-- Contract 8.1 `feedback`: message_id arrives as a number from the UI and is stored as text.
CREATE TABLE feedback (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  message_id varchar(255) NOT NULL,
  query text NOT NULL,
  response text NOT NULL,
  rating integer NOT NULL CHECK (rating IN (1, -1)),
  comment text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_user_idx ON feedback (user_id);

-- Down Migration
DROP TABLE feedback;
DROP TABLE audio_files;
