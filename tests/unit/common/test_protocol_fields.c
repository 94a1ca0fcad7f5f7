/* SPDX-License-Identifier: MIT */
/*
 * docs/PROTOCOL.md against the code, mechanically: the field names in the
 * document's field tables (host, VM, disk object, interface object, load
 * command, load state, summary, and the summary's columns, whose names are the
 * strings of its "cols") must be exactly the JSON keys that the encoders write
 * for fully populated structs, table by table, and every documented field must
 * be known to its decoder (given a value of the wrong type, the decoder rejects
 * the payload and names that field) with the documented type (an "integer"
 * refuses 1.5, a "number" takes it). A field added to schema.c without a line
 * in PROTOCOL.md, or documented but never written or read, fails here.
 *
 * And the tables against the schema's ledger (tests/fixtures/schema/1.ledger):
 * every field published under this major version, with its type, whether it is
 * required, and every enum value. A change that would break a consumer silently
 * (a field renamed, retyped, removed or made required, a new enum value) fails
 * unless KG_SCHEMA_VERSION is bumped with a new ledger; a new optional field
 * fails until it is appended to the ledger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"

/* The field tables of PROTOCOL.md, by the heading or line above them. */
enum table { T_HOST, T_VM, T_DISK, T_NET, T_CMD, T_STATE, T_SUM, T_SUMCOL, T_COUNT };
static const char *const table_names[T_COUNT] = {
    "Host payload", "VM payload", "Disk object", "Interface object", "Load command payload",
    "Load state payload", "Summary payload", "Summary columns",
};

#define MAX_FIELDS 64
struct names {
    unsigned n;
    char name[MAX_FIELDS][48];
    char type[MAX_FIELDS][16]; /* documented: the Type column ("" when not read) */
    bool required[MAX_FIELDS]; /* documented: "required" in the Absent when column */
};

static struct names documented[T_COUNT];

static void add_name(struct names *s, const char *name, size_t len)
{
    assert_true(len > 0 && len < sizeof s->name[0]);
    for (unsigned i = 0; i < s->n; i++)
        if (strlen(s->name[i]) == len && memcmp(s->name[i], name, len) == 0)
            return;
    assert_true(s->n < MAX_FIELDS);
    memcpy(s->name[s->n], name, len);
    s->name[s->n][len] = '\0';
    s->n++;
}

static bool has_name(const struct names *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0)
            return true;
    return false;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof buf - 1);
    buf[n] = '\0';
    return buf;
}

/* Collects the backquoted names of the first cell of every row of every
 * "| Field |" table, filed under the table named by the nearest heading ("## X")
 * or "X (`...`):" line above it. */
static void load_documented(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    char *doc = read_file(KG_SOURCE_DIR "/docs/PROTOCOL.md");
    int cur = -1;
    bool in_table = false;
    for (char *line = doc; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        if (strncmp(line, "## ", 3) == 0 || strncmp(line, "Disk object", 11) == 0 ||
            strncmp(line, "Interface object", 16) == 0 ||
            strncmp(line, "Summary columns", 15) == 0) {
            const char *title = line[0] == '#' ? line + 3 : line;
            cur = -1;
            for (int t = 0; t < T_COUNT; t++)
                if (strncmp(title, table_names[t], strlen(table_names[t])) == 0)
                    cur = t;
        }
        /* a summary's columns are listed like fields: "| Column |" */
        if (strncmp(line, "| Field |", 9) == 0 || strncmp(line, "| Column |", 10) == 0) {
            if (cur < 0)
                fail_msg("PROTOCOL.md: a field table under no known heading: %s", line);
            in_table = true;
        } else if (in_table && line[0] == '|' && strncmp(line, "|---", 4) != 0) {
            char *cell_end = strchr(line + 1, '|');
            assert_non_null(cell_end);
            /* Type column: the second cell, trimmed. */
            char type[16] = "";
            char *t0 = cell_end + 1, *t1 = strchr(t0, '|');
            assert_non_null(t1);
            while (*t0 == ' ')
                t0++;
            while (t1 > t0 && t1[-1] == ' ')
                t1--;
            assert_true((size_t)(t1 - t0) < sizeof type);
            memcpy(type, t0, (size_t)(t1 - t0));
            type[t1 - t0] = '\0';
            /* Absent when column: the last cell, exactly "required" for a field
             * every payload must have ("required for start" is a rule of its own). */
            char *a1 = strrchr(line, '|'), *a0 = a1;
            while (a0 > t1 && a0[-1] != '|')
                a0--;
            while (*a0 == ' ')
                a0++;
            while (a1 > a0 && a1[-1] == ' ')
                a1--;
            bool required = a1 - a0 == 8 && strncmp(a0, "required", 8) == 0;
            for (char *p = line + 1; p < cell_end;) {
                char *q = memchr(p, '`', (size_t)(cell_end - p));
                if (!q)
                    break;
                char *r = memchr(q + 1, '`', (size_t)(cell_end - q - 1));
                assert_non_null(r);
                add_name(&documented[cur], q + 1, (size_t)(r - q - 1));
                for (unsigned i = 0; i < documented[cur].n; i++)
                    if (strlen(documented[cur].name[i]) == (size_t)(r - q - 1) &&
                        memcmp(documented[cur].name[i], q + 1, (size_t)(r - q - 1)) == 0) {
                        strcpy(documented[cur].type[i], type);
                        documented[cur].required[i] = required;
                    }
                p = r + 1;
            }
        } else if (line[0] != '|') {
            in_table = false;
        }
        line = eol ? eol + 1 : NULL;
    }
    for (int t = 0; t < T_COUNT; t++)
        if (documented[t].n == 0)
            fail_msg("PROTOCOL.md: no field table found for \"%s\"", table_names[t]);
}

/* ---- fully populated structs ----------------------------------------------- */

static void full_vm(struct kg_vm *vm)
{
    kg_vm_init(vm);
    vm->ts_ms = 1764412800123;
    strcpy(vm->host, "hv-01");
    strcpy(vm->name, "web-01");
    strcpy(vm->uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    vm->state = KG_VM_RUNNING;
    vm->stale = true;
    vm->age_s = 12.5;
    vm->vcpus = 4;
    vm->cpu_pct = 37.1;
    vm->cpu_host_pct = 4.6;
    vm->steal_pct = 0.5;
    vm->mem_max_kib = 4194304;
    vm->mem_cur_kib = 2097152;
    vm->mem_used_kib = 1048000;
    vm->mem_used_pct = 49.9;
    vm->mem_rss_kib = 2150400;
    vm->disk_rd_bytes_per_s = vm->disk_wr_bytes_per_s = 1000;
    vm->disk_rd_iops = vm->disk_wr_iops = 10;
    vm->disk_rd_lat_ms = vm->disk_wr_lat_ms = 1.5;
    vm->net_rx_bytes_per_s = vm->net_tx_bytes_per_s = 2000;
    vm->net_rx_pkts_per_s = vm->net_tx_pkts_per_s = 20;
    vm->net_errs_per_s = vm->net_drop_per_s = 0.25;
    vm->n_disks = 2;
    vm->n_nets = 1;
    for (unsigned i = 0; i < vm->n_disks; i++) {
        struct kg_disk *d = &vm->disks[i];
        snprintf(d->name, sizeof d->name, "vd%c", 'a' + i);
        d->rd_bytes_per_s = d->wr_bytes_per_s = 500;
        d->rd_iops = d->wr_iops = 5;
        d->rd_lat_ms = d->wr_lat_ms = 1.5;
        d->rd_bytes = d->wr_bytes = 123456789;
    }
    struct kg_net *n = &vm->nets[0];
    strcpy(n->name, "vnet3");
    n->rx_bytes_per_s = n->tx_bytes_per_s = 2000;
    n->rx_pkts_per_s = n->tx_pkts_per_s = 20;
    n->rx_errs_per_s = n->tx_errs_per_s = 0.125;
    n->rx_drop_per_s = n->tx_drop_per_s = 0.125;
    n->rx_bytes = n->tx_bytes = 987654321;
}

static void full_host(struct kg_host *h)
{
    kg_host_init(h);
    h->ts_ms = 1764412800000;
    strcpy(h->name, "hv-01");
    strcpy(h->agent_version, "0.1.0");
    h->interval_s = 5;
    h->libvirt_ok = false;
    strcpy(h->libvirt_error, "Failed to connect socket");
    strcpy(h->collect_path, "bulk");
    h->cpus = 32;
    h->cpu_pct = 41.5;
    h->mem_total_kib = 263842908;
    h->mem_used_kib = 131921454;
    h->mem_used_pct = 50;
    h->load1 = h->load5 = h->load15 = 1.25;
    h->disk_rd_bytes_per_s = h->disk_wr_bytes_per_s = 1000;
    h->net_rx_bytes_per_s = h->net_tx_bytes_per_s = 1000;
    h->vms_running = 48;
    h->vms_defined = 52;
}

/* Every field of a spec set; a disk load, so that the disk-only fields are
 * written too (the cpu and mem fields are written for any kind when set). */
static void full_spec(struct kg_load_spec *s)
{
    kg_load_spec_init(s);
    s->kind = KG_LOAD_DISK;
    s->duration_s = 120;
    s->workers = 2;
    s->pct = 60;
    s->ramp_to_pct = 100;
    s->mib = 512;
    s->dirty_mib_per_s = 16;
    s->disk_mode = KG_DISK_RW;
    s->mb_per_s = 20;
    s->block_kib = 1024;
    s->direct = true;
}

static void full_state(struct kg_load_state *s)
{
    kg_load_state_init(s);
    s->ts_ms = 1764412900000;
    strcpy(s->node, "guest-03");
    s->status = KG_LOADST_RUNNING;
    strcpy(s->id, "val-7");
    strcpy(s->scenario, "mixed");
    s->step = 3;
    s->steps = 3;
    full_spec(&s->spec);
    s->elapsed_s = 97.25;
    s->progress_pct = 72.5;
    s->cpu_pct = 63.9;
    s->mem_resident_mib = 512;
    s->disk_wr_mb_per_s = 19.87;
    s->disk_rd_mb_per_s = 1.5;
    strcpy(s->last_reject_id, "op-44");
    strcpy(s->last_reject, "mib 65536 is over the cap of 4096");
}

/* ---- keys of encoded payloads ---------------------------------------------- */

static char g_buf[KG_PAYLOAD_MAX];

/* A summary of full_host with one row of full_vm, and one row left out (so that
 * "vms_omitted" is written too), in g_buf; returns its length. */
static int full_summary(void)
{
    struct kg_host h;
    full_host(&h);
    static struct kg_vm vm;
    full_vm(&vm);
    struct kg_summary_writer w;
    assert_int_equal(kg_summary_begin(&w, g_buf, sizeof g_buf, &h), 0);
    assert_int_equal(kg_summary_add(&w, &vm), 0);
    vm.name[0] = '\0';
    assert_int_equal(kg_summary_add(&w, &vm), KG_EINVAL);
    return kg_summary_end(&w);
}

static void keys_of(const cJSON *obj, struct names *out)
{
    assert_true(cJSON_IsObject(obj));
    for (const cJSON *c = obj->child; c; c = c->next)
        add_name(out, c->string, strlen(c->string));
}

static cJSON *parsed(int n)
{
    assert_true(n > 0);
    cJSON *root = cJSON_ParseWithLength(g_buf, (size_t)n);
    assert_non_null(root);
    return root;
}

/* Keys of the objects in array key of root (all elements). */
static void keys_of_array(const cJSON *root, const char *key, struct names *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    assert_true(cJSON_IsArray(arr));
    for (const cJSON *e = arr->child; e; e = e->next)
        keys_of(e, out);
}

static void encoded_names(struct names enc[T_COUNT], struct names *load_obj)
{
    memset(enc, 0, sizeof(struct names) * T_COUNT);
    memset(load_obj, 0, sizeof *load_obj);

    struct kg_host h;
    full_host(&h);
    cJSON *root = parsed(kg_host_encode(&h, g_buf, sizeof g_buf));
    keys_of(root, &enc[T_HOST]);
    cJSON_Delete(root);

    static struct kg_vm vm;
    full_vm(&vm);
    root = parsed(kg_vm_encode(&vm, g_buf, sizeof g_buf));
    keys_of(root, &enc[T_VM]);
    keys_of_array(root, "disks", &enc[T_DISK]);
    keys_of_array(root, "nets", &enc[T_NET]);
    cJSON_Delete(root);

    /* A start with every argument, and a scenario: together all command fields. */
    struct kg_load_cmd c;
    kg_load_cmd_init(&c);
    c.verb = KG_LOAD_START;
    strcpy(c.id, "op-42");
    full_spec(&c.spec);
    root = parsed(kg_load_cmd_encode(&c, g_buf, sizeof g_buf));
    keys_of(root, &enc[T_CMD]);
    cJSON_Delete(root);
    kg_load_cmd_init(&c);
    c.verb = KG_LOAD_SCENARIO;
    strcpy(c.scenario, "mixed");
    root = parsed(kg_load_cmd_encode(&c, g_buf, sizeof g_buf));
    keys_of(root, &enc[T_CMD]);
    cJSON_Delete(root);

    struct kg_load_state s;
    full_state(&s);
    root = parsed(kg_load_state_encode(&s, g_buf, sizeof g_buf));
    keys_of(root, &enc[T_STATE]);
    keys_of(cJSON_GetObjectItemCaseSensitive(root, "load"), load_obj);
    cJSON_Delete(root);

    root = parsed(full_summary());
    keys_of(root, &enc[T_SUM]);
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "cols");
    assert_true(cJSON_IsArray(cols));
    for (const cJSON *e = cols->child; e; e = e->next)
        add_name(&enc[T_SUMCOL], e->valuestring, strlen(e->valuestring));
    cJSON_Delete(root);
}

/* ---- tests ------------------------------------------------------------------ */

/* Each encoded key is documented in its table, and each documented field is
 * written by the encoder for a fully populated struct. */
static void test_documented_equals_encoded(void **state)
{
    (void)state;
    struct names enc[T_COUNT], load_obj;
    load_documented();
    encoded_names(enc, &load_obj);
    int bad = 0;
    for (int t = 0; t < T_COUNT; t++) {
        for (unsigned i = 0; i < enc[t].n; i++) {
            if (!has_name(&documented[t], enc[t].name[i])) {
                print_error("%s: \"%s\" is written but not in PROTOCOL.md's table\n",
                            table_names[t], enc[t].name[i]);
                bad++;
            }
        }
        for (unsigned i = 0; i < documented[t].n; i++) {
            if (!has_name(&enc[t], documented[t].name[i])) {
                print_error("%s: \"%s\" is documented but never written\n", table_names[t],
                            documented[t].name[i]);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* The state's "load" object carries "the start fields of a command": exactly
 * the command's fields other than schema, cmd, id and scenario. */
static void test_state_load_is_command_start_fields(void **state)
{
    (void)state;
    struct names enc[T_COUNT], load_obj;
    load_documented();
    encoded_names(enc, &load_obj);
    static const char *const not_start[] = { "schema", "cmd", "id", "scenario" };
    int bad = 0;
    for (unsigned i = 0; i < documented[T_CMD].n; i++) {
        const char *f = documented[T_CMD].name[i];
        bool start_field = true;
        for (size_t k = 0; k < sizeof not_start / sizeof not_start[0]; k++)
            if (strcmp(f, not_start[k]) == 0)
                start_field = false;
        if (start_field != has_name(&load_obj, f)) {
            print_error("load state \"load\": \"%s\" %s\n", f,
                        start_field ? "missing" : "should not be there");
            bad++;
        }
    }
    for (unsigned i = 0; i < load_obj.n; i++) {
        if (!has_name(&documented[T_CMD], load_obj.name[i])) {
            print_error("load state \"load\": \"%s\" is not a command field\n",
                        load_obj.name[i]);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Replaces the value of key (at the top level, or in the first element of the
 * array/object under `in`) with repl (taken), decodes, and returns the decoder's
 * result; err receives its message. */
static int decode_with(enum table t, const char *in, const char *key, cJSON *repl, char *err,
                       size_t errlen, char **json_out)
{
    cJSON *root = cJSON_Parse(g_buf);
    assert_non_null(root);
    cJSON *obj = root;
    if (in) {
        obj = cJSON_GetObjectItemCaseSensitive(root, in);
        if (cJSON_IsArray(obj))
            obj = obj->child;
        assert_true(cJSON_IsObject(obj));
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, repl);
    else
        cJSON_AddItemToObject(obj, key, repl);
    char *json = cJSON_PrintUnformatted(root);
    assert_non_null(json);
    cJSON_Delete(root);
    err[0] = '\0';
    int rc;
    size_t len = strlen(json);
    static struct kg_vm vm;
    struct kg_host h;
    struct kg_load_cmd c;
    struct kg_load_state s;
    switch (t) {
    case T_HOST: rc = kg_host_decode(json, len, &h, err, errlen); break;
    case T_CMD: rc = kg_load_cmd_decode(json, len, &c, err, errlen); break;
    case T_STATE: rc = kg_load_state_decode(json, len, &s, err, errlen); break;
    case T_SUM: {
        static struct kg_summary sum;
        rc = kg_summary_decode(json, len, &sum, NULL, NULL, err, errlen);
        break;
    }
    default: rc = kg_vm_decode(json, len, &vm, err, errlen); break;
    }
    *json_out = json;
    return rc;
}

/* Given a value of the wrong type, the decoder rejects the payload naming key. */
static void expect_decoder_knows(enum table t, const char *in, const char *key)
{
    cJSON *root = cJSON_Parse(g_buf), *obj = root;
    assert_non_null(root);
    if (in) {
        obj = cJSON_GetObjectItemCaseSensitive(root, in);
        if (cJSON_IsArray(obj))
            obj = obj->child;
    }
    /* An object is the wrong type for every field but the objects themselves. */
    bool is_obj = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, key));
    cJSON_Delete(root);
    cJSON *wrong = is_obj ? cJSON_CreateString("x") : cJSON_CreateObject();
    char err[KG_ERRMSG_MAX], *json;
    int rc = decode_with(t, in, key, wrong, err, sizeof err, &json);
    char quoted[80];
    snprintf(quoted, sizeof quoted, "%s\"", key);
    if (rc >= 0 || !strstr(err, quoted))
        fail_msg("%s: decoder does not know documented field \"%s\" (rc %d, \"%s\"): %s",
                 table_names[t], key, rc, err, json);
    cJSON_free(json);
}

/* A field documented as "integer" is refused with a fraction (naming the field);
 * one documented as "number" takes 1.5. */
static void expect_number_type(enum table t, const char *in, const char *key, const char *type)
{
    char err[KG_ERRMSG_MAX], *json;
    int rc = decode_with(t, in, key, cJSON_CreateNumber(1.5), err, sizeof err, &json);
    char quoted[80];
    snprintf(quoted, sizeof quoted, "%s\"", key);
    if (strcmp(type, "integer") == 0 && (rc >= 0 || !strstr(err, quoted)))
        fail_msg("%s: \"%s\" is documented as an integer but 1.5 is accepted (rc %d): %s",
                 table_names[t], key, rc, json);
    if (strcmp(type, "number") == 0 && rc != 0)
        fail_msg("%s: \"%s\" is documented as a number but 1.5 is refused: %s",
                 table_names[t], key, err);
    cJSON_free(json);
}

/* A summary column's cell in the first row of full_summary() replaced with repl
 * (taken): the decoder's result, its message in err. */
static int decode_cell_with(const char *col, cJSON *repl, char *err, size_t errlen,
                            char **json_out)
{
    cJSON *root = parsed(full_summary());
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "cols");
    cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "vms"), 0);
    int at = 0;
    for (const cJSON *c = cols->child; c && strcmp(c->valuestring, col) != 0; c = c->next)
        at++;
    assert_true(at < cJSON_GetArraySize(cols));
    cJSON_ReplaceItemInArray(row, at, repl);
    char *json = cJSON_PrintUnformatted(root);
    assert_non_null(json);
    cJSON_Delete(root);
    static struct kg_summary sum;
    err[0] = '\0';
    int rc = kg_summary_decode(json, strlen(json), &sum, NULL, NULL, err, errlen);
    *json_out = json;
    return rc;
}

/* Each documented column is decoded with its documented type, and the
 * required ones may not be null. */
static void test_documented_columns_are_decoded(void **state)
{
    (void)state;
    load_documented();
    for (unsigned i = 0; i < documented[T_SUMCOL].n; i++) {
        const char *col = documented[T_SUMCOL].name[i];
        const char *type = documented[T_SUMCOL].type[i];
        char err[KG_ERRMSG_MAX], *json, quoted[80];
        snprintf(quoted, sizeof quoted, "vms[0].%s\"", col);
        int rc = decode_cell_with(col, cJSON_CreateObject(), err, sizeof err, &json);
        if (rc >= 0 || !strstr(err, quoted))
            fail_msg("Summary columns: decoder does not know \"%s\" (rc %d, \"%s\"): %s", col,
                     rc, err, json);
        cJSON_free(json);
        rc = decode_cell_with(col, cJSON_CreateNull(), err, sizeof err, &json);
        if (documented[T_SUMCOL].required[i] != (rc < 0))
            fail_msg("Summary columns: \"%s\" is %s but null is %s: %s", col,
                     documented[T_SUMCOL].required[i] ? "required" : "optional",
                     rc < 0 ? "refused" : "accepted", json);
        cJSON_free(json);
        if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0) {
            rc = decode_cell_with(col, cJSON_CreateNumber(1.5), err, sizeof err, &json);
            if ((strcmp(type, "number") == 0) != (rc == 0))
                fail_msg("Summary columns: \"%s\" is documented as %s; 1.5 gives %d (%s)", col,
                         type, rc, err);
            cJSON_free(json);
        } else if (strcmp(type, "string") != 0 && strcmp(type, "boolean") != 0) {
            fail_msg("Summary columns: \"%s\" has an unknown type \"%s\"", col, type);
        }
    }
}

static void test_documented_fields_are_decoded(void **state)
{
    (void)state;
    load_documented();
    for (int t = 0; t < T_COUNT; t++) {
        if (t == T_SUMCOL)
            continue; /* test_documented_columns_are_decoded */
        for (unsigned i = 0; i < documented[t].n; i++) {
            const char *f = documented[t].name[i];
            const char *in = t == T_DISK ? "disks" : t == T_NET ? "nets" : NULL;
            enum table payload = t == T_DISK || t == T_NET ? T_VM : (enum table)t;
            switch (payload) {
            case T_HOST: {
                struct kg_host h;
                full_host(&h);
                assert_true(kg_host_encode(&h, g_buf, sizeof g_buf) > 0);
                break;
            }
            case T_CMD: {
                struct kg_load_cmd c;
                kg_load_cmd_init(&c);
                c.verb = KG_LOAD_START;
                strcpy(c.id, "op-42");
                full_spec(&c.spec);
                if (strcmp(f, "scenario") == 0) {
                    c.verb = KG_LOAD_SCENARIO;
                    strcpy(c.scenario, "mixed");
                }
                assert_true(kg_load_cmd_encode(&c, g_buf, sizeof g_buf) > 0);
                break;
            }
            case T_STATE: {
                struct kg_load_state s;
                full_state(&s);
                assert_true(kg_load_state_encode(&s, g_buf, sizeof g_buf) > 0);
                break;
            }
            case T_SUM:
                assert_true(full_summary() > 0);
                break;
            default: {
                static struct kg_vm vm;
                full_vm(&vm);
                assert_true(kg_vm_encode(&vm, g_buf, sizeof g_buf) > 0);
                break;
            }
            }
            expect_decoder_knows(t, in, f);
            const char *type = documented[t].type[i];
            if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
                expect_number_type(t, in, f, type);
            else if (strcmp(type, "string") != 0 && strcmp(type, "boolean") != 0 &&
                     strcmp(type, "array") != 0 && strcmp(type, "object") != 0)
                fail_msg("%s: \"%s\" has an unknown type \"%s\" in PROTOCOL.md",
                         table_names[t], f, type);
        }
    }
    /* And the command's start fields inside a state's "load" object. */
    for (unsigned i = 0; i < documented[T_CMD].n; i++) {
        const char *f = documented[T_CMD].name[i];
        if (!strcmp(f, "schema") || !strcmp(f, "cmd") || !strcmp(f, "id") ||
            !strcmp(f, "scenario"))
            continue;
        struct kg_load_state s;
        full_state(&s);
        assert_true(kg_load_state_encode(&s, g_buf, sizeof g_buf) > 0);
        expect_decoder_knows(T_STATE, "load", f);
    }
}

/* ---- the schema's ledger ----------------------------------------------------- */

static const char *const ledger_payloads[T_COUNT] = {
    "host", "vm", "disk", "net", "load-cmd", "load-state", "summary", "summary-col",
};

/* Names of the code's enum wire values, for the ledger's "enum" lines. */
static void code_enum(const char *which, struct names *out)
{
    memset(out, 0, sizeof *out);
    const char *n;
    if (strcmp(which, "vm.state") == 0) {
        for (int v = 0; v < KG_VM_STATE_COUNT; v++)
            n = kg_vm_state_name((enum kg_vm_state)v), add_name(out, n, strlen(n));
    } else if (strcmp(which, "load-cmd.cmd") == 0) {
        for (int v = KG_LOAD_START; strcmp(n = kg_load_verb_name((enum kg_load_verb)v), "unknown");
             v++)
            add_name(out, n, strlen(n));
    } else if (strcmp(which, "load-cmd.kind") == 0) {
        for (int v = KG_LOAD_CPU; strcmp(n = kg_load_kind_name((enum kg_load_kind)v), "unknown");
             v++)
            add_name(out, n, strlen(n));
    } else if (strcmp(which, "load-cmd.mode") == 0) {
        for (int v = KG_DISK_WRITE; strcmp(n = kg_disk_mode_name((enum kg_disk_mode)v), "unknown");
             v++)
            add_name(out, n, strlen(n));
    } else if (strcmp(which, "load-state.status") == 0) {
        for (int v = KG_LOADST_IDLE;
             strcmp(n = kg_load_status_name((enum kg_load_status)v), "unknown"); v++)
            add_name(out, n, strlen(n));
    } else {
        fail_msg("ledger: an enum the test does not know: %s", which);
    }
}

static void test_schema_ledger(void **state)
{
    (void)state;
    load_documented();
    char path[256];
    snprintf(path, sizeof path, KG_SOURCE_DIR "/tests/fixtures/schema/%d.ledger",
             KG_SCHEMA_VERSION);
    char *text = read_file(path);
    struct names in_ledger[T_COUNT];
    memset(in_ledger, 0, sizeof in_ledger);
    unsigned enums = 0;
    int bad = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char a[32], b[48], c[16], d[16];
        if (sscanf(line, "enum %31s", a) == 1) {
            struct names code;
            code_enum(a, &code);
            unsigned listed = 0;
            char *rest = line + strlen("enum ");
            rest += strspn(rest, " ") + strlen(a);
            for (int k = 0, off; sscanf(rest, "%47s%n", b, &off) == 1; rest += off, k++) {
                listed++;
                if (!has_name(&code, b)) {
                    print_error("ledger: %s value \"%s\" is gone from the code: removing an "
                                "enum value is an incompatible change\n", a, b);
                    bad++;
                }
            }
            if (listed != code.n) {
                print_error("ledger: %s has %u values in the code and %u in the ledger: a new "
                            "enum value is an incompatible change (bump KG_SCHEMA_VERSION)\n",
                            a, code.n, listed);
                bad++;
            }
            enums++;
            continue;
        }
        if (sscanf(line, "%31s %47s %15s %15s", a, b, c, d) != 4)
            fail_msg("ledger %s: a line that is neither a field nor an enum: %s", path, line);
        int t = -1;
        for (int i = 0; i < T_COUNT; i++)
            if (strcmp(a, ledger_payloads[i]) == 0)
                t = i;
        if (t < 0)
            fail_msg("ledger: unknown payload \"%s\"", a);
        add_name(&in_ledger[t], b, strlen(b));
        unsigned i = 0;
        while (i < documented[t].n && strcmp(documented[t].name[i], b) != 0)
            i++;
        if (i == documented[t].n) {
            print_error("%s: \"%s\" is in the schema %d ledger but gone from PROTOCOL.md: "
                        "removing or renaming a field is an incompatible change\n",
                        table_names[t], b, KG_SCHEMA_VERSION);
            bad++;
        } else if (strcmp(documented[t].type[i], c) != 0) {
            print_error("%s: \"%s\" was %s and is now %s: retyping a field is an "
                        "incompatible change\n", table_names[t], b, c, documented[t].type[i]);
            bad++;
        } else if (documented[t].required[i] && strcmp(d, "required") != 0) {
            print_error("%s: \"%s\" was optional and is now required: old publishers do not "
                        "send it, an incompatible change\n", table_names[t], b);
            bad++;
        }
    }
    for (int t = 0; t < T_COUNT; t++)
        for (unsigned i = 0; i < documented[t].n; i++)
            if (!has_name(&in_ledger[t], documented[t].name[i])) {
                print_error("%s: \"%s\" is new: append \"%s %s %s %s\" to %s (a new "
                            "optional field keeps the version)\n",
                            table_names[t], documented[t].name[i], ledger_payloads[t],
                            documented[t].name[i], documented[t].type[i],
                            documented[t].required[i] ? "required" : "optional", path);
                bad++;
            }
    assert_int_equal(enums, 5);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_equals_encoded),
        cmocka_unit_test(test_state_load_is_command_start_fields),
        cmocka_unit_test(test_documented_fields_are_decoded),
        cmocka_unit_test(test_documented_columns_are_decoded),
        cmocka_unit_test(test_schema_ledger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
