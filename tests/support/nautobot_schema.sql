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

-- The tables kjq reads to fire Nautobot's schedules (kjq serve --run-schedules), read from the
-- same release: nautobot/users/models.py (User: BaseModel + Django's AbstractUser),
-- nautobot/extras/models/jobs.py (Job, JobQueue: PrimaryModel = id, created, last_updated,
-- _custom_field_data; ScheduledJob: ApprovableModelMixin + BaseModel; ScheduledJobs), the
-- django_celery_beat columns ScheduledJob keeps for API compatibility (solar, clocked, exchange,
-- routing_key, headers, priority, expires, expire_seconds), after migrations 0119 (queue removed),
-- 0128 (approved_at renamed decision_date) and 0140-0142 (state; approval_required removed). Left out: many-to-many tables (tags,
-- job queues of a job, saved views), extras_jobqueue.secrets_group_id and tenant_id foreign keys
-- (the columns stay), and the foreign keys to tables not here (django_celery_beat's).
CREATE TABLE users_user (
    id uuid NOT NULL PRIMARY KEY,
    password varchar(128) NOT NULL,
    last_login timestamp with time zone NULL,
    is_superuser boolean NOT NULL,
    username varchar(150) NOT NULL UNIQUE,
    first_name varchar(150) NOT NULL,
    last_name varchar(150) NOT NULL,
    email varchar(254) NOT NULL,
    is_staff boolean NOT NULL,
    is_active boolean NOT NULL,
    date_joined timestamp with time zone NOT NULL,
    config_data jsonb NOT NULL
);

CREATE TABLE extras_jobqueue (
    id uuid NOT NULL PRIMARY KEY,
    created timestamp with time zone NULL,
    last_updated timestamp with time zone NULL,
    _custom_field_data jsonb NOT NULL,
    name varchar(255) NOT NULL UNIQUE,
    description varchar(255) NOT NULL,
    queue_type varchar(50) NOT NULL,
    secrets_group_id uuid NULL,
    tenant_id uuid NULL
);

CREATE TABLE extras_job (
    id uuid NOT NULL PRIMARY KEY,
    created timestamp with time zone NULL,
    last_updated timestamp with time zone NULL,
    _custom_field_data jsonb NOT NULL,
    module_name varchar(100) NOT NULL,
    job_class_name varchar(100) NOT NULL,
    grouping varchar(255) NOT NULL,
    name varchar(100) NOT NULL UNIQUE,
    description text NOT NULL,
    installed boolean NOT NULL,
    enabled boolean NOT NULL,
    is_job_hook_receiver boolean NOT NULL,
    is_job_button_receiver boolean NOT NULL,
    has_sensitive_variables boolean NOT NULL,
    is_singleton boolean NOT NULL,
    console_log_default boolean NOT NULL,
    hidden boolean NOT NULL,
    dryrun_default boolean NOT NULL,
    read_only boolean NOT NULL,
    soft_time_limit double precision NOT NULL,
    time_limit double precision NOT NULL,
    supports_dryrun boolean NOT NULL,
    default_job_queue_id uuid NOT NULL,
    grouping_override boolean NOT NULL,
    name_override boolean NOT NULL,
    console_log_default_override boolean NOT NULL,
    description_override boolean NOT NULL,
    dryrun_default_override boolean NOT NULL,
    hidden_override boolean NOT NULL,
    soft_time_limit_override boolean NOT NULL,
    time_limit_override boolean NOT NULL,
    has_sensitive_variables_override boolean NOT NULL,
    job_queues_override boolean NOT NULL,
    default_job_queue_override boolean NOT NULL,
    is_singleton_override boolean NOT NULL
);
ALTER TABLE extras_job ADD CONSTRAINT extras_job_default_job_queue_id_fk_extras_jobqueue_id
    FOREIGN KEY (default_job_queue_id) REFERENCES extras_jobqueue (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX extras_job_module_name_idx ON extras_job (module_name);
CREATE INDEX extras_job_job_class_name_idx ON extras_job (job_class_name);

CREATE TABLE extras_scheduledjob (
    id uuid NOT NULL PRIMARY KEY,
    name varchar(255) NOT NULL UNIQUE,
    task varchar(201) NOT NULL,
    interval varchar(255) NOT NULL,
    args jsonb NOT NULL,
    kwargs jsonb NOT NULL,
    one_off boolean NOT NULL,
    start_time timestamp with time zone NOT NULL,
    enabled boolean NOT NULL,
    last_run_at timestamp with time zone NULL,
    total_run_count integer NOT NULL CHECK ("total_run_count" >= 0),
    date_changed timestamp with time zone NOT NULL,
    description text NOT NULL,
    user_id uuid NULL,
    job_model_id uuid NULL,
    crontab varchar(255) NOT NULL,
    celery_kwargs jsonb NOT NULL,
    time_zone varchar(63) NOT NULL,
    job_queue_id uuid NULL,
    state varchar(30) NOT NULL,
    decision_date timestamp with time zone NULL,
    clocked_id integer NULL,
    solar_id integer NULL,
    exchange varchar(255) NULL,
    routing_key varchar(255) NULL,
    headers text NOT NULL,
    priority integer NULL CHECK ("priority" >= 0),
    expires timestamp with time zone NULL,
    expire_seconds integer NULL CHECK ("expire_seconds" >= 0)
);
ALTER TABLE extras_scheduledjob ADD CONSTRAINT extras_scheduledjob_user_id_fk_users_user_id
    FOREIGN KEY (user_id) REFERENCES users_user (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE extras_scheduledjob ADD CONSTRAINT extras_scheduledjob_job_model_id_fk_extras_job_id
    FOREIGN KEY (job_model_id) REFERENCES extras_job (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE extras_scheduledjob ADD CONSTRAINT extras_scheduledjob_job_queue_id_fk_extras_jobqueue_id
    FOREIGN KEY (job_queue_id) REFERENCES extras_jobqueue (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX extras_scheduledjob_task_idx ON extras_scheduledjob (task);
CREATE INDEX extras_scheduledjob_state_idx ON extras_scheduledjob (state);

CREATE TABLE extras_scheduledjobs (
    ident smallint NOT NULL PRIMARY KEY,
    last_update timestamp with time zone NOT NULL
);

ALTER TABLE extras_jobresult ADD CONSTRAINT extras_jobresult_scheduled_job_id_fk_extras_scheduledjob_id
    FOREIGN KEY (scheduled_job_id) REFERENCES extras_scheduledjob (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE extras_jobresult ADD CONSTRAINT extras_jobresult_job_model_id_fk_extras_job_id
    FOREIGN KEY (job_model_id) REFERENCES extras_job (id) DEFERRABLE INITIALLY DEFERRED;
