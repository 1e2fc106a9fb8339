-- Up Migration
-- Documents, their chunks (full-text indexed) and the original PDFs, all in Postgres: no worker keeps
-- anything on its disk, so any PM2 worker (or host) can answer for any document.

CREATE TABLE document_categories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name varchar(50) NOT NULL UNIQUE,
  icon varchar(50),
  color varchar(20),
  description text,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO document_categories (name, icon, color, description) VALUES
  ('general', 'file-text', '#6B7280', 'General documents'),
  ('study', 'book-open', '#3B82F6', 'Study materials, notes and textbooks'),
  ('research', 'microscope', '#8B5CF6', 'Research papers and articles'),
  ('work', 'briefcase', '#10B981', 'Work documents and reports'),
  ('personal', 'user', '#F59E0B', 'Personal documents'),
  ('other', 'folder', '#EF4444', 'Everything else');

-- The source of truth for "which documents does a user have". Rows are written once, in the same
-- transaction as their chunks and file, so readers only ever see complete documents ('ready').
-- 'processing' and 'failed' are reserved for asynchronous ingestion; every reader filters on 'ready'.
CREATE TABLE documents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The contract's document_name (secure filename without ".pdf"): what /ask and DELETE address.
  name text NOT NULL,
  filename text NOT NULL,
  bytes bigint NOT NULL,
  pages integer NOT NULL,
  sha256 bytea NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'ready' CHECK (status IN ('processing', 'ready', 'failed')),
  error_message text,
  category varchar(50) NOT NULL DEFAULT 'general' REFERENCES document_categories (name) ON UPDATE CASCADE,
  tags text[] NOT NULL DEFAULT '{}',
  description text,
  chunk_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Re-uploading a name replaces the document instead of adding a second one.
  UNIQUE (user_id, name)
);
CREATE INDEX documents_user_uploaded_idx ON documents (user_id, uploaded_at);

-- The uploaded file itself, apart from the metadata so listings never read megabytes of bytea.
CREATE TABLE document_files (
  document_id uuid PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
  content_type varchar(100) NOT NULL DEFAULT 'application/pdf',
  data bytea NOT NULL
);
-- PDFs are mostly compressed already: store out of line without trying pglz on them again.
ALTER TABLE document_files ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE document_chunks (
  document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  chunk_index integer NOT NULL,
  -- 1-based page the chunk starts on (and ends on: chunks never span pages by default).
  page integer NOT NULL,
  page_end integer NOT NULL,
  chunk_type varchar(10) NOT NULL DEFAULT 'text' CHECK (chunk_type IN ('text', 'table', 'image')),
  content text NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  PRIMARY KEY (document_id, chunk_index)
);
-- Retrieval ANDs this with the primary key's document_id bitmap, so other users' chunks cost little.
CREATE INDEX document_chunks_tsv_idx ON document_chunks USING gin (tsv);

-- Bumped in the same transaction as every upload, replacement and deletion of a user's documents.
-- Cached answers are keyed by it, so a change makes all of that user's cached answers unreachable.
CREATE TABLE user_document_versions (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  version bigint NOT NULL DEFAULT 0
);

-- Short-lived state (query quota, chat history, answer cache) when no Redis is configured, shared by
-- every worker. UNLOGGED: losing it in a crash costs nothing that matters, skipping the WAL keeps it cheap.
CREATE UNLOGGED TABLE kv_store (
  key text PRIMARY KEY,
  value text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX kv_store_expires_idx ON kv_store (expires_at);

-- Down Migration
DROP TABLE kv_store;
DROP TABLE user_document_versions;
DROP TABLE document_chunks;
DROP TABLE document_files;
DROP TABLE documents;
DROP TABLE document_categories;
