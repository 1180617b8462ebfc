/* hilander - shared machinery of the subcommands (see cli.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_tty = 0;

/* ---- errors ------------------------------------------------------------------ */

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hilander %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'hilander %s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_data_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hilander %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_DATA;
}

/* The options were checked before the library was called, so what it
 * refuses is the data: a file of the wrong kind or version, a NaN or zero
 * row, sizes that do not fit. */
static int status_exit(hl_status st)
{
    return st == HL_EINVAL || st == HL_EFORMAT || st == HL_EVERSION || st == HL_ERANGE ? CLI_EXIT_DATA
                                                                                      : CLI_EXIT_RUNTIME;
}

int cli_lib_error(const char *cmd, const char *what, hl_status st)
{
    const char *msg = hl_last_error();
    fprintf(stderr, "hilander %s: %s: %s%s%s\n", cmd, what, hl_status_str(st), msg[0] ? ": " : "", msg);
    return status_exit(st);
}

int cli_read_status(hl_status st) { return status_exit(st); }

/* ---- inputs ------------------------------------------------------------------ */

int cli_read_features(const char *cmd, const char *path, float **x, int64_t *n, int64_t *d)
{
    hl_status st = hl_npy_read_f32(path, x, n, d);
    if (st != HL_OK) {
        fprintf(stderr, "hilander %s: cannot read features '%s': %s\n", cmd, path, hl_last_error());
        return cli_read_status(st);
    }
    return 0;
}

int cli_read_labels(const char *cmd, const char *path, int64_t **y, int64_t *n)
{
    hl_status st = hl_npy_read_labels(path, y, n);
    if (st != HL_OK) {
        fprintf(stderr, "hilander %s: cannot read labels '%s': %s\n", cmd, path, hl_last_error());
        return cli_read_status(st);
    }
    return 0;
}

/* ---- option values -------------------------------------------------------------- */

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_f64(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* "10,5,3" into at most @p max values in [lo, hi]; @return the count or -1. */
static int parse_list(const char *s, int64_t lo, int64_t hi, int64_t *vals, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char buf[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof buf || n == max)
            return -1;
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (parse_i64(buf, lo, hi, &vals[n]) != 0)
            return -1;
        n++;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0')
                return -1;
        }
    }
    return n > 0 ? n : -1;
}

/* Index of @p word in "a|b|c", or -1. */
static int parse_choice(const char *choices, const char *word)
{
    int idx = 0;
    size_t wl = strlen(word);
    for (const char *p = choices;; idx++) {
        size_t len = strcspn(p, "|");
        if (len == wl && strncmp(p, word, len) == 0)
            return idx;
        if (p[len] == '\0')
            return -1;
        p += len + 1;
    }
}

/* Store the value @p v of option @p o; @return 0, or -1 for a bad value. */
static int set_value(const cli_opt *o, const char *v)
{
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case CLI_STR:
        *(const char **)o->dst = v;
        return 0;
    case CLI_INT:
        return parse_i64(v, o->ilo, o->ihi, o->dst);
    case CLI_REAL: {
        double x;
        if (o->keyword && strcmp(v, o->keyword) == 0) {
            *(double *)o->dst = o->keyword_value;
            return 0;
        }
        if (parse_f64(v, &x) != 0 || x < o->lo || x > o->hi || (o->open_lo && x == o->lo) ||
            (o->open_hi && x == o->hi))
            return -1;
        *(double *)o->dst = x;
        return 0;
    }
    case CLI_CHOICE: {
        int idx = parse_choice(o->choices, v);
        if (idx < 0)
            return -1;
        *(int *)o->dst = idx;
        return 0;
    }
    case CLI_LIST: {
        int have = o->append ? *o->count : 0;
        int n = parse_list(v, o->ilo, o->ihi, (int64_t *)o->dst + have, o->max_count - have);
        if (n < 0)
            return -1;
        *o->count = have + n;
        return 0;
    }
    }
    return -1;
}

/* ---- the parser and the help, both from the table ----------------------------- */

#define CLI_MAX_OPTS 32
#define CLI_LONG_BASE 256 /* getopt_long's value for table entry i without a short form: base + i */

static int count_opts(const cli_opt *opts)
{
    int n = 0;
    while (opts[n].name)
        n++;
    return n;
}

static const cli_opt *find_by_val(const cli_opt *opts, int n, int val)
{
    if (val >= CLI_LONG_BASE && val < CLI_LONG_BASE + n)
        return &opts[val - CLI_LONG_BASE];
    for (int i = 0; i < n; i++)
        if (val != 0 && opts[i].short_name == val)
            return &opts[i];
    return NULL;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, char ***pos, int *npos)
{
    const int n = count_opts(cmd->opts);
    struct option lo[CLI_MAX_OPTS + 2];
    char shorts[2 * CLI_MAX_OPTS + 4];
    size_t ns = 0;
    if (n > CLI_MAX_OPTS) {
        fprintf(stderr, "hilander %s: internal error: too many options\n", cmd->name);
        return CLI_EXIT_RUNTIME;
    }
    shorts[ns++] = ':'; /* a missing value returns ':' instead of printing */
    for (int i = 0; i < n; i++) {
        const cli_opt *o = &cmd->opts[i];
        lo[i].name = o->name;
        lo[i].has_arg = o->kind == CLI_FLAG ? no_argument : required_argument;
        lo[i].flag = NULL;
        lo[i].val = o->short_name ? o->short_name : CLI_LONG_BASE + i;
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (o->kind != CLI_FLAG)
                shorts[ns++] = ':';
        }
    }
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n + 1] = (struct option){NULL, 0, NULL, 0};
    shorts[ns++] = 'h';
    shorts[ns] = '\0';

    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, lo, NULL);
        if (c == -1)
            break;
        if (c == 'h') {
            cli_help(cmd, stdout);
            return CLI_EXIT_OK;
        }
        const cli_opt *o = find_by_val(cmd->opts, n, c == ':' || c == '?' ? optopt : c);
        if (c == ':')
            return cli_usage_error(cmd->name, "%s", o ? o->error : "an option needs a value");
        if (c == '?') {
            if (o && o->kind == CLI_FLAG)
                return cli_usage_error(cmd->name, "--%s takes no value", o->name);
            if (optopt > 0 && optopt < CLI_LONG_BASE && !o)
                return cli_usage_error(cmd->name, "unknown option '-%c'", optopt);
            return cli_usage_error(cmd->name, "unknown option '%s'", argv[optind - 1]);
        }
        if (!o || set_value(o, optarg) != 0)
            return cli_usage_error(cmd->name, "%s", o ? o->error : "bad option");
    }
    if (argc - optind > cmd->max_positional)
        return cli_usage_error(cmd->name, "unexpected argument '%s'", argv[optind + cmd->max_positional]);
    *pos = argv + optind;
    *npos = argc - optind;
    return -1;
}

void cli_help(const cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: hilander %s %s\n\n%s\noptions:\n", cmd->name, cmd->usage, cmd->description);
    for (const cli_opt *o = cmd->opts;; o++) {
        char head[96];
        const char *name = o->name ? o->name : "help";
        if (o->name && o->short_name)
            snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        else
            snprintf(head, sizeof head, "%s--%s%s%s", o->name ? "    " : "-h, ", name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        const char *help = o->name ? o->help : "print this help and exit";
        if (strlen(head) > 28)
            fprintf(out, "  %s\n  %-28s  %s\n", head, "", help);
        else
            fprintf(out, "  %-28s  %s\n", head, help);
        if (!o->name)
            break;
    }
}

/* ---- progress and output ------------------------------------------------------- */

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_bar(const char *label, double frac, const char *extra)
{
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    if (cli_tty) {
        char bar[31];
        int w = (int)(frac * 30.0 + 0.5);
        for (int i = 0; i < 30; i++)
            bar[i] = i < w ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %3.0f%% %s\033[K", label, bar, 100.0 * frac, extra);
        if (frac >= 1)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s %3.0f%% %s\n", label, 100.0 * frac, extra);
    }
    fflush(stderr);
}

int cli_train_progress(const hl_train_progress *p, void *user)
{
    const int *quiet = user;
    if (*quiet)
        return 0;
    static int64_t last_line = -1;
    char extra[160];
    snprintf(extra, sizeof extra, "step %lld/%lld epoch %d loss %.4f", (long long)p->step, (long long)p->total_steps,
             (int)p->epoch + 1, p->loss);
    if (!isnan(p->val_auc)) {
        size_t l = strlen(extra);
        /* best_val_auc follows the checkpoint metric (by default the
         * validation clustering's mean F), printed beside the link AUCs. */
        snprintf(extra + l, sizeof extra - l, " val_auc %.4f level0 %.4f", p->val_auc, p->val_level0_auc);
        l = strlen(extra);
        if (!isnan(p->val_cluster_f))
            snprintf(extra + l, sizeof extra - l, " val_F %.4f (best %.4f)", p->val_cluster_f, p->best_val_auc);
        else
            snprintf(extra + l, sizeof extra - l, " (best %.4f)", p->best_val_auc);
    }
    double frac = p->total_steps > 0 ? (double)p->step / (double)p->total_steps : 0.0;
    if (cli_tty) {
        cli_progress_bar("train", frac, extra);
    } else {
        /* a line per validation, at most ~20 lines otherwise */
        int64_t tick = p->total_steps > 20 ? p->total_steps / 20 : 1;
        if (!isnan(p->val_auc) || p->step / tick != last_line || p->step == p->total_steps) {
            last_line = p->step / tick;
            cli_progress_bar("train", frac, extra);
        }
    }
    return 0;
}

void cli_describe_defaults(const hl_model *model, char *buf, size_t len)
{
    float tau = -1.0f, merge = 0.0f;
    int32_t score = -1, white = 0;
    hl_model_get_cluster_defaults(model, &tau, &score);
    hl_model_get_cluster_merge(model, &merge);
    hl_model_get_whitening(model, NULL, &white);
    snprintf(buf, len, "score %s, tau %.3f, merge %g%s",
             score == HL_SCORE_PROB ? "prob" : score == HL_SCORE_SIM ? "sim" : "snn", (double)tau, (double)merge,
             white ? ", whitened features" : "");
}

void cli_print_metrics_header(int with_time)
{
    printf("%-36s %7s %7s %7s %7s %7s %7s %7s %8s%s\n", "method", "F_pair", "P_pair", "R_pair", "F_bcub", "P_bcub",
           "R_bcub", "NMI", "clusters", with_time ? "     secs" : "");
}

void cli_print_metrics_line(const char *name, const hl_metrics *m, double secs)
{
    printf("%-36s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %8lld", name, m->pairwise_f, m->pairwise_precision,
           m->pairwise_recall, m->bcubed_f, m->bcubed_precision, m->bcubed_recall, m->nmi,
           (long long)m->num_pred_clusters);
    if (secs >= 0)
        printf(" %8.2f", secs);
    printf("\n");
}
