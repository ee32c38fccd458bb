/*
 * migrate — see migrate.h.
 */
#include "migrate.h"
#include "db.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)
#define MIGRATION_MAX_FILES 512
/* An arbitrary constant shared by every fetcherd: the advisory lock id. */
#define MIGRATE_LOCK_ID "7318406117"

/* Run unprepared (PQexecParams): migrate may run more than once on one
 * connection, and prepared names would collide. */
enum { M_LOCK, M_UNLOCK, M_GET, M_RECORD, M_APPLIED };
static const struct db_stmt stmts[] = {
    [M_LOCK] = {"migrate_lock", "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")", 0},
    [M_UNLOCK] = {"migrate_unlock", "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")", 0},
    [M_GET] = {"migrate_get",
               "SELECT checksum, md5($2::text) FROM schema_migrations WHERE version = $1", 2},
    [M_RECORD] = {"migrate_record",
                  "INSERT INTO schema_migrations (version, name, checksum)"
                  " VALUES ($1, $2, md5($3::text))",
                  3},
    [M_APPLIED] = {"migrate_applied", "SELECT version FROM schema_migrations", 0},
};

static int mig_query(PGconn *conn, int which, const char *const *params, PGresult **res, char *err,
                     size_t errlen)
{
    const struct db_stmt *s = &stmts[which];
    PGresult *r = PQexecParams(conn, s->sql, s->nparams, NULL, params, NULL, NULL, 0);
    if (db_classify(conn, r) != DB_OK) {
        const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
        snprintf(err, errlen, "%s: %s", s->name, m);
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
        PQclear(r);
        *res = NULL;
        return -1;
    }
    *res = r;
    return 0;
}

static const char create_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   " version text PRIMARY KEY,"
                                   " name text NOT NULL,"
                                   " checksum text NOT NULL,"
                                   " applied_at timestamptz NOT NULL DEFAULT now())";

struct file_list {
    char *names[MIGRATION_MAX_FILES];
    int n;
};

static int mig_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int mig_is_name(const char *n)
{
    size_t len = strlen(n);
    return len > 8 && len < 200 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' &&
           n[2] >= '0' && n[2] <= '9' && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static void mig_list_free(struct file_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->names[i]);
    l->n = 0;
}

static int mig_list_dir(const char *dir, struct file_list *l, char *err, size_t errlen)
{
    l->n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "cannot open migrations directory %s", dir);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!mig_is_name(e->d_name))
            continue;
        if (l->n == MIGRATION_MAX_FILES) {
            snprintf(err, errlen, "more than %d migration files in %s", MIGRATION_MAX_FILES, dir);
            closedir(d);
            mig_list_free(l);
            return -1;
        }
        l->names[l->n] = strdup(e->d_name);
        if (l->names[l->n] == NULL) {
            closedir(d);
            mig_list_free(l);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        l->n++;
    }
    closedir(d);
    qsort(l->names, (size_t)l->n, sizeof l->names[0], mig_cmp_names);
    for (int i = 1; i < l->n; i++) {
        if (strncmp(l->names[i], l->names[i - 1], 3) == 0) {
            snprintf(err, errlen, "migrations %s and %s share the number %.3s", l->names[i - 1],
                     l->names[i], l->names[i]);
            mig_list_free(l);
            return -1;
        }
    }
    return 0;
}

static char *mig_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    char *buf = malloc(MIGRATION_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MIGRATION_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n > MIGRATION_MAX_BYTES) {
        snprintf(err, errlen, "%s is larger than %d bytes", path, MIGRATION_MAX_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int mig_exec_simple(PGconn *conn, const char *sql, const char *what, char *err,
                           size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    if (db_classify(conn, r) != DB_OK) {
        const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
        snprintf(err, errlen, "%s: %s", what, m);
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

static int mig_apply_one(PGconn *conn, const char *dir, const char *name, int *applied, char *err,
                         size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *sql = mig_read_file(path, err, errlen);
    if (sql == NULL)
        return -1;
    int rc = -1;
    char version[4] = {name[0], name[1], name[2], '\0'};
    const char *params[3] = {version, sql, NULL};
    PGresult *r = NULL;
    if (mig_query(conn, M_GET, params, &r, err, errlen) != 0)
        goto out;
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1)) != 0) {
            snprintf(err, errlen,
                     "migration %s changed after it was applied (checksum %s, file now %s); "
                     "add a new migration instead of editing an applied one",
                     name, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
            goto out;
        }
        rc = 0;
        goto out;
    }
    PQclear(r);
    r = NULL;
    if (mig_exec_simple(conn, "BEGIN", name, err, errlen) != 0)
        goto out;
    char what[256];
    snprintf(what, sizeof what, "migration %s", name);
    if (mig_exec_simple(conn, sql, what, err, errlen) != 0) {
        (void)mig_exec_simple(conn, "ROLLBACK", name, what, sizeof what);
        goto out;
    }
    const char *rec[3] = {version, name, sql};
    if (mig_query(conn, M_RECORD, rec, &r, err, errlen) != 0) {
        (void)mig_exec_simple(conn, "ROLLBACK", name, what, sizeof what);
        goto out;
    }
    if (mig_exec_simple(conn, "COMMIT", name, err, errlen) != 0)
        goto out;
    if (applied)
        (*applied)++;
    rc = 0;
out:
    PQclear(r);
    free(sql);
    return rc;
}

int migrate_run(PGconn *conn, const char *dir, int *applied, char *err, size_t errlen)
{
    if (applied)
        *applied = 0;
    struct file_list files;
    if (mig_list_dir(dir, &files, err, errlen) != 0)
        return -1;
    int rc = -1;
    int locked = 0;
    PGresult *r = NULL;
    if (mig_exec_simple(conn, create_table, "schema_migrations", err, errlen) != 0)
        goto out;
    if (mig_query(conn, M_LOCK, NULL, &r, err, errlen) != 0)
        goto out;
    locked = 1;
    for (int i = 0; i < files.n; i++)
        if (mig_apply_one(conn, dir, files.names[i], applied, err, errlen) != 0)
            goto out;
    rc = 0;
out:
    PQclear(r);
    if (locked) {
        PGresult *u = NULL;
        char ignored[8];
        if (mig_query(conn, M_UNLOCK, NULL, &u, ignored, sizeof ignored) == 0)
            PQclear(u);
    }
    mig_list_free(&files);
    return rc;
}

int migrate_pending(PGconn *conn, const char *dir, int *pending, char *err, size_t errlen)
{
    struct file_list files;
    if (mig_list_dir(dir, &files, err, errlen) != 0)
        return -1;
    PGresult *r = NULL;
    int rc = -1;
    if (mig_query(conn, M_APPLIED, NULL, &r, err, errlen) != 0)
        goto out;
    int n = 0;
    for (int i = 0; i < files.n; i++) {
        int found = 0;
        for (int row = 0; row < PQntuples(r) && !found; row++)
            found = strncmp(PQgetvalue(r, row, 0), files.names[i], 3) == 0;
        n += !found;
    }
    *pending = n;
    rc = 0;
out:
    PQclear(r);
    mig_list_free(&files);
    return rc;
}
