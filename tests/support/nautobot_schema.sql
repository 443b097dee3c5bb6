-- The two tables of Nautobot that kjq writes, as a migrated Nautobot database has them in
-- PostgreSQL: extras_jobresult (model JobResult) and extras_joblogentry (model JobLogEntry).
--
-- Read from nautobot/nautobot v3.1.6 (branch main, 2026-06-23; Django 5.2):
--   nautobot/extras/models/jobs.py          JobResult, JobLogEntry
--   nautobot/core/models/__init__.py        BaseModel (id: UUIDField, primary key, no db default)
--   nautobot/extras/models/customfields.py  CustomFieldModel (_custom_field_data: JSONField)
--   nautobot/extras/models/mixins.py        SavedViewMixin (no columns)
--   nautobot/extras/constants.py            JOB_LOG_MAX_* (100, 200, 255)
--   nautobot/extras/migrations/0001 … 0129  (column order, index names and types follow them:
--     0001, 0002, 0008, 0015, 0017, 0023, 0033, 0041, 0058, 0060, 0068, 0072, 0087, 0089, 0097,
--     0098, 0123, 0124, 0125, 0129)
--
-- What Django puts in the database, and so here:
--   * No column has a database default: Django supplies defaults in Python (uuid4, "main", "",
--     timezone.now, {} …). An INSERT must give every NOT NULL column.
--   * A ForeignKey is `DEFERRABLE INITIALLY DEFERRED` with no ON DELETE clause: on_delete=CASCADE
--     is carried out by Django, not by PostgreSQL. Deleting a JobResult with SQL alone fails.
--   * JSONField is jsonb, DateTimeField timestamptz, PositiveIntegerField integer with a CHECK,
--     db_index=True on a CharField adds a second "_like" index (varchar_pattern_ops).
--   * Index names are Django's (table_column_md5hash), made when each migration ran: a renamed
--     column keeps its old index name (created → date_created).
-- Left out: the foreign keys of extras_jobresult to users_user, extras_job and
-- extras_scheduledjob (those tables are not here); the columns stay, nullable, as in Nautobot.
-- Nautobot 3.2 (branch next, migration 0143) adds to extras_jobresult: date_revoked timestamptz
-- NULL, revocation_type varchar(30) NOT NULL, revoked_by_id uuid NULL, revoked_by_user_name
-- varchar(150) NOT NULL; kjq touches none of them.

CREATE TABLE extras_jobresult (
    id uuid NOT NULL PRIMARY KEY,
    name varchar(255) NOT NULL,
    date_created timestamp with time zone NOT NULL,
    date_done timestamp with time zone NULL,
    status varchar(30) NOT NULL,
    result jsonb NULL,
    user_id uuid NULL,
    _custom_field_data jsonb NOT NULL,
    scheduled_job_id uuid NULL,
    job_model_id uuid NULL,
    task_args jsonb NOT NULL,
    meta jsonb NULL,
    task_kwargs jsonb NOT NULL,
    task_name varchar(255) NULL,
    traceback text NULL,
    worker varchar(100) NULL,
    celery_kwargs jsonb NOT NULL,
    date_started timestamp with time zone NULL,
    debug_log_count integer NULL CHECK ("debug_log_count" >= 0),
    error_log_count integer NULL CHECK ("error_log_count" >= 0),
    info_log_count integer NULL CHECK ("info_log_count" >= 0),
    success_log_count integer NULL CHECK ("success_log_count" >= 0),
    warning_log_count integer NULL CHECK ("warning_log_count" >= 0)
);
CREATE INDEX extras_jobresult_user_id_d35285ab ON extras_jobresult (user_id);
CREATE INDEX extras_jobresult_schedule_id_24ce985a ON extras_jobresult (scheduled_job_id);
CREATE INDEX extras_jobresult_job_model_id_d581ec7e ON extras_jobresult (job_model_id);
CREATE INDEX extras_jobresult_name_3f143125 ON extras_jobresult (name);
CREATE INDEX extras_jobresult_name_3f143125_like ON extras_jobresult (name varchar_pattern_ops);
CREATE INDEX extras_jobresult_completed_41ca396b ON extras_jobresult (date_done);
CREATE INDEX extras_jobresult_created_bf3a3954 ON extras_jobresult (date_created);
CREATE INDEX extras_jobresult_task_name_05e4b9b2 ON extras_jobresult (task_name);
CREATE INDEX extras_jobresult_task_name_05e4b9b2_like ON extras_jobresult (task_name varchar_pattern_ops);
CREATE INDEX extras_jobresult_status_2659cbae ON extras_jobresult (status);
CREATE INDEX extras_jobresult_status_2659cbae_like ON extras_jobresult (status varchar_pattern_ops);
CREATE INDEX extras_jobresult_rcreated_idx ON extras_jobresult (date_created DESC);
CREATE INDEX extras_jr_rdone_idx ON extras_jobresult (date_done DESC);
CREATE INDEX extras_jr_statrcreate_idx ON extras_jobresult (status, date_created DESC);
CREATE INDEX extras_jr_statrdone_idx ON extras_jobresult (status, date_done DESC);
CREATE INDEX extras_jobresult_date_started_6992234b ON extras_jobresult (date_started);

CREATE TABLE extras_joblogentry (
    id uuid NOT NULL PRIMARY KEY,
    log_level varchar(32) NOT NULL,
    grouping varchar(100) NOT NULL,
    message text NOT NULL,
    created timestamp with time zone NOT NULL,
    log_object varchar(200) NOT NULL,
    absolute_url varchar(255) NOT NULL,
    job_result_id uuid NOT NULL
);
ALTER TABLE extras_joblogentry
    ADD CONSTRAINT extras_joblogentry_job_result_id_91e10d1a_fk_extras_jo
    FOREIGN KEY (job_result_id) REFERENCES extras_jobresult (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX extras_joblogentry_job_result_id_91e10d1a ON extras_joblogentry (job_result_id);
CREATE INDEX extras_joblogentry_log_level_f8cfe898 ON extras_joblogentry (log_level);
CREATE INDEX extras_joblogentry_log_level_f8cfe898_like ON extras_joblogentry (log_level varchar_pattern_ops);
CREATE INDEX extras_joblogentry_created_ef6e01c5 ON extras_joblogentry (created);
CREATE INDEX extras_joblog_jr_created_idx ON extras_joblogentry (job_result_id, created);
