-- Up Migration
-- The original backend's tables (contract section 8.1), created by us instead of Supabase.
-- gen_random_uuid() is built in since PostgreSQL 13, so no extension is needed.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email varchar(320) NOT NULL UNIQUE,
  password_hash text NOT NULL,
  role varchar(50),
  occupation varchar(255),
  institution varchar(255),
  is_verified boolean NOT NULL DEFAULT false,
  is_admin boolean NOT NULL DEFAULT false,
  created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

CREATE TABLE user_plans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  plan_type varchar(20) NOT NULL DEFAULT 'free' CHECK (plan_type IN ('free', 'student', 'premium')),
  max_documents integer NOT NULL DEFAULT 5,
  max_queries_per_day integer NOT NULL DEFAULT 50,
  features jsonb NOT NULL DEFAULT '{}'::jsonb,
  active_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_voice_preferences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  engine_preference varchar(20) NOT NULL DEFAULT 'auto' CHECK (engine_preference IN ('auto', 'gtts', 'azure', 'coqui')),
  language_preference varchar(10) NOT NULL DEFAULT 'auto',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE usage_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  event_type varchar(50) NOT NULL,
  "timestamp" timestamptz NOT NULL DEFAULT now(),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX usage_events_user_type_idx ON usage_events (user_id, event_type);

-- Password reset tokens: only a SHA-256 of the token is stored, so a database leak does not leak live links.
CREATE TABLE password_reset_tokens (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_tokens_expires_idx ON password_reset_tokens (expires_at);

-- Fixed-window counters for @fastify/rate-limit when no Redis is configured. UNLOGGED: counters are
-- worthless after a crash and skipping the WAL keeps the hot upsert cheap.
CREATE UNLOGGED TABLE rate_limit_counters (
  key text PRIMARY KEY,
  count integer NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at);

-- Down Migration
DROP TABLE rate_limit_counters;
DROP TABLE password_reset_tokens;
DROP TABLE usage_events;
DROP TABLE user_voice_preferences;
DROP TABLE user_plans;
DROP TABLE users;
