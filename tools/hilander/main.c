/* hilander - command-line front end of libhilander (docs/CLI.md, hilander(1)).
 *
 *   hilander knn      FEATURES.npy -k K --out-nbrs NBRS.npy --out-sims SIMS.npy
 *   hilander train    --features X.npy --labels Y.npy --model-out M.hlm [...]
 *   hilander cluster  [--model M.hlm] --features X.npy --labels-out L.npy [...]
 *   hilander eval     --labels Y.npy --pred L.npy [--json]
 *   hilander demo     [--data DIR]
 *   hilander collection create|add|remove|info|export ...
 *
 * One file per subcommand (cmd_*.c); common.c holds the option-table parser,
 * errors and input helpers.  Exit status: 0 success, 2 usage error (bad
 * option or value, inputs that do not fit together, a wrong kind of file), 1
 * runtime error (I/O, out of memory, a library failure).  Every output is
 * validated before anything is written, and every file is written atomically
 * by the library, so a failed run leaves no partial file. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} COMMANDS[] = {{"knn", cmd_knn}, {"train", cmd_train}, {"cluster", cmd_cluster}, {"eval", cmd_eval},
                {"demo", cmd_demo}, {"collection", cmd_collection}};

static const char *MAIN_HELP =
    "usage: hilander <command> [options]    (hilander <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  knn         k nearest neighbours of feature vectors (.npy in, .npy out)\n"
    "  train       train a Hi-LANDER model on labelled features\n"
    "  cluster     cluster feature vectors (with a model, or unsupervised)\n"
    "  eval        score predicted labels against ground truth\n"
    "  demo        train on the bundled Omniglot features and compare with baselines\n"
    "  collection  a clustering kept in a file that grows batch by batch\n"
    "\n"
    "options:\n"
    "  -h, --help   print this help and exit\n"
    "  --version    print the library version and exit\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 65 data error\n";

int main(int argc, char **argv)
{
    cli_tty = isatty(2);
    if (argc < 2) {
        fputs(MAIN_HELP, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        fputs(MAIN_HELP, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(c, "--version") == 0) {
        printf("hilander %s\n", hl_version());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(c, COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hilander: unknown command '%s'\n\n%s", c, MAIN_HELP);
    return CLI_EXIT_USAGE;
}
