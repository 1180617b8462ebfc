/* hilander eval: score predicted labels against the ground truth. */
#include "cli.h"

#include <stdio.h>

static const char *const CMD = "eval";

int cmd_eval(int argc, char **argv)
{
    const char *lpath = NULL, *ppath = NULL;
    int json = 0;
    const cli_opt opts[] = {
        {.name = "labels", .kind = CLI_STR, .dst = &lpath, .metavar = "Y.npy",
         .help = "true labels, int32 or int64 (required)", .error = "--labels needs a file name"},
        {.name = "pred", .kind = CLI_STR, .dst = &ppath, .metavar = "L.npy",
         .help = "predicted labels, int32 or int64 (required)", .error = "--pred needs a file name"},
        {.name = "json", .kind = CLI_FLAG, .dst = &json, .help = "print one JSON object"},
        {0}};
    const cli_command cmd = {CMD, "--labels Y.npy --pred L.npy [--json]",
                             "Score predicted cluster labels against the ground truth: pairwise F /\n"
                             "precision / recall, BCubed F / precision / recall and NMI (arithmetic\n"
                             "normalisation).  Labels are int32 or int64 .npy vectors, any values.\n",
                             opts, 0};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (!lpath || !ppath)
        return cli_usage_error(CMD, "--labels and --pred are required");
    int64_t *y = NULL, *p = NULL, ny, np;
    if ((rc = cli_read_labels(CMD, lpath, &y, &ny)) != 0)
        return rc;
    if ((rc = cli_read_labels(CMD, ppath, &p, &np)) != 0)
        goto done;
    if (ny != np) {
        rc = cli_data_error(CMD, "%s has %lld labels but %s has %lld", lpath, (long long)ny, ppath, (long long)np);
        goto done;
    }
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    hl_status st = hl_evaluate(y, p, ny, &m);
    if (st != HL_OK) {
        rc = cli_lib_error(CMD, "evaluation", st);
        goto done;
    }
    if (json) {
        printf("{\"n\": %lld, \"pairwise_f\": %.6f, \"pairwise_precision\": %.6f, \"pairwise_recall\": %.6f, "
               "\"bcubed_f\": %.6f, \"bcubed_precision\": %.6f, \"bcubed_recall\": %.6f, \"nmi\": %.6f, "
               "\"num_true_clusters\": %lld, \"num_pred_clusters\": %lld}\n",
               (long long)ny, m.pairwise_f, m.pairwise_precision, m.pairwise_recall, m.bcubed_f, m.bcubed_precision,
               m.bcubed_recall, m.nmi, (long long)m.num_true_clusters, (long long)m.num_pred_clusters);
    } else {
        printf("points            %lld\n", (long long)ny);
        printf("clusters          %lld predicted, %lld true\n", (long long)m.num_pred_clusters,
               (long long)m.num_true_clusters);
        printf("pairwise  F %.4f  precision %.4f  recall %.4f\n", m.pairwise_f, m.pairwise_precision,
               m.pairwise_recall);
        printf("BCubed    F %.4f  precision %.4f  recall %.4f\n", m.bcubed_f, m.bcubed_precision, m.bcubed_recall);
        printf("NMI       %.4f\n", m.nmi);
    }
done:
    hl_free(y);
    hl_free(p);
    return rc;
}
