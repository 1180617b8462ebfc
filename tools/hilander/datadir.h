/* hilander - where `hilander demo` finds the bundled Omniglot features. */
#ifndef HILANDER_CLI_DATADIR_H
#define HILANDER_CLI_DATADIR_H

#include <stddef.h>

/* Environment variable naming the demo's data directory. */
#define CLI_DATA_ENV "HILANDER_DEMO_DATA"

/* The first directory holding train_features.npy and test_features.npy of:
 * $HILANDER_DEMO_DATA, <directory of the executable>/CLI_DATA_REL (where the
 * install puts the data: ../share/hilander/omniglot) and ./data/omniglot (a
 * source checkout).  @return 0 with the directory in @p out, or -1 with a
 * description of the places tried in @p out. */
int cli_find_data_dir(char *out, size_t cap);

#endif
