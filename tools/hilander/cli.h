/* hilander - the command-line front end of libhilander (docs/CLI.md).
 *
 * Shared machinery of the subcommands: the option table that drives both
 * getopt_long and the help text, the error and exit-status helpers, reading
 * .npy inputs, progress on stderr and the metrics table. */
#ifndef HILANDER_CLI_H
#define HILANDER_CLI_H

#include <hilander.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status (docs/CLI.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_RUNTIME 1 /* I/O, out of memory, a library failure */
#define CLI_EXIT_USAGE 2   /* bad option or option value */
#define CLI_EXIT_DATA 65   /* bad input data (sysexits EX_DATAERR): NaN rows, a wrong kind of file, inputs that
                              do not fit together (dimensions, counts, k >= rows) */

/* ---- option tables ------------------------------------------------------
 * One table per subcommand: every entry says how the option is spelled, what
 * it stores where, which values it accepts, the message for a bad value and
 * its line of help.  cli_parse() runs getopt_long over it; cli_help() prints
 * the usage from it.  The table ends with an entry whose name is NULL. */
typedef enum {
    CLI_FLAG,   /* no value: *(int *)dst = 1 */
    CLI_STR,    /* a file name or directory: *(const char **)dst */
    CLI_INT,    /* an integer in [lo, hi]: *(int64_t *)dst */
    CLI_REAL,   /* a finite number in [lo, hi] (lo excluded with open_lo): *(double *)dst */
    CLI_CHOICE, /* one word of choices "a|b|c": *(int *)dst = its index */
    CLI_LIST    /* comma-separated integers in [lo, hi], at most max_count: (int64_t *)dst, *count */
} cli_kind;

typedef struct cli_opt {
    const char *name;     /* long name without "--"; NULL ends the table */
    char short_name;      /* 0, or the one-letter form ("-k") */
    cli_kind kind;
    void *dst;
    const char *metavar;  /* value shown in the help ("FILE", "exact|approx|auto") */
    const char *help;     /* one line, without the default */
    const char *error;    /* message for a missing or bad value */
    int64_t ilo, ihi;     /* CLI_INT, CLI_LIST: accepted range */
    double lo, hi;        /* CLI_REAL: accepted range ... */
    int open_lo, open_hi; /* ... without lo / hi themselves */
    const char *choices;  /* CLI_CHOICE: "a|b|c" */
    const char *keyword;  /* CLI_REAL: a word accepted instead of a number ("auto") ... */
    double keyword_value; /* ... and the value it stands for */
    int max_count;        /* CLI_LIST: most values */
    int *count;           /* CLI_LIST: receives the number of values */
    int append;           /* CLI_LIST: a repeated option adds to the list (--id 3 --id 5) instead of
                             replacing it; *count must start at 0 */
} cli_opt;

/* A subcommand: name, usage lines, description and its option table. */
typedef struct cli_command {
    const char *name;
    const char *usage;       /* synopsis after "usage: hilander NAME " (may span lines) */
    const char *description; /* paragraph after the synopsis */
    const cli_opt *opts;
    int max_positional;      /* positional arguments accepted */
} cli_command;

/* Parse argv (argv[0] is the subcommand name).  Positional arguments are
 * moved to *pos (argv order), *npos receives their number.
 * @return -1 to go on; otherwise the exit status (0 after --help). */
int cli_parse(const cli_command *cmd, int argc, char **argv, char ***pos, int *npos);

/* Print the help of a subcommand (synopsis, description, options from the table). */
void cli_help(const cli_command *cmd, FILE *out);

/* ---- errors -------------------------------------------------------------- */

/* "hilander CMD: message" and the help hint on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "hilander CMD: message" on stderr for input data that is wrong; returns CLI_EXIT_DATA. */
int cli_data_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* "hilander CMD: WHAT: status: hl_last_error()"; a refusal of the data
 * (HL_EINVAL, HL_EFORMAT, HL_EVERSION, HL_ERANGE) is a data error, else runtime. */
int cli_lib_error(const char *cmd, const char *what, hl_status st);

/* Exit status of a failed read/load: runtime for HL_EIO and HL_ENOMEM, usage otherwise. */
int cli_read_status(hl_status st);

/* ---- inputs ---------------------------------------------------------------- */

int cli_read_features(const char *cmd, const char *path, float **x, int64_t *n, int64_t *d);
int cli_read_labels(const char *cmd, const char *path, int64_t **y, int64_t *n);

/* ---- progress and output ------------------------------------------------ */

extern int cli_tty; /* stderr is a terminal: progress as a bar */

double cli_now(void);
void cli_progress_bar(const char *label, double frac, const char *extra);
/* hl_train_options.progress; user points to an int, non-zero = quiet. */
int cli_train_progress(const hl_train_progress *p, void *user);
/* "score snn, tau 0.450, merge 1.2, whitened features": a model's stored defaults. */
void cli_describe_defaults(const hl_model *model, char *buf, size_t len);
void cli_print_metrics_header(int with_time);
void cli_print_metrics_line(const char *name, const hl_metrics *m, double secs);

/* ---- subcommands ------------------------------------------------------------ */

int cmd_knn(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_collection(int argc, char **argv);

#endif
