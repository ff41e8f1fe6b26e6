/* Drives a model built by `dlc build`, as a C program would use it.
 *
 * Compiled with -DNET=name -DNET_UP=NAME -DNET_HEADER="name.h". Reads samples
 * (one per line, comma-separated raw values, `nan` for a missing one) from
 * the file in argv[1] and prints three blocks, one line per sample:
 *   # batch    NET_predict on every sample at once
 *   # single   NET_predict_ws on one sample at a time (the batch-1 plan)
 *   # logits   NET_logits on every sample at once
 * then `# codes` and the return codes of calls the header says are errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>
#include NET_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(suffix) CAT(NET, suffix)
#define K(suffix) CAT(NET_UP, suffix)

static void print_rows(const float *v, size_t n, size_t width) {
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < width; j++) printf(j ? ",%.9g" : "%.9g", v[i * width + j]);
        printf("\n");
    }
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "r");
    if (!f) return 2;
    size_t cap = 64, n = 0;
    float *x = malloc(cap * K(_INPUTS) * sizeof(float));
    char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        if (n == cap) x = realloc(x, (cap *= 2) * K(_INPUTS) * sizeof(float));
        char *p = line;
        for (int j = 0; j < K(_INPUTS); j++) {
            x[n * K(_INPUTS) + j] = strtof(p, &p);
            if (*p == ',') p++;
        }
        n++;
    }
    fclose(f);
    float *out = malloc(n * K(_OUTPUTS) * sizeof(float));
    float *logits = malloc(n * K(_LOGITS) * sizeof(float));
    int r = FN(_predict)(x, n, out);
    if (r != K(_OK)) { fprintf(stderr, "predict returned %d\n", r); return 1; }
    printf("# batch\n");
    print_rows(out, n, K(_OUTPUTS));

    void *ws = malloc(FN(_workspace_size)(1));
    for (size_t i = 0; i < n; i++) {
        r = FN(_predict_ws)(x + i * K(_INPUTS), 1, out + i * K(_OUTPUTS), ws);
        if (r != K(_OK)) { fprintf(stderr, "predict_ws returned %d\n", r); return 1; }
    }
    free(ws);
    printf("# single\n");
    print_rows(out, n, K(_OUTPUTS));

    r = FN(_logits)(x, n, logits);
    if (r != K(_OK)) { fprintf(stderr, "logits returned %d\n", r); return 1; }
    printf("# logits\n");
    print_rows(logits, n, K(_LOGITS));

    /* The error paths: each code on its own line. */
    printf("# codes\n");
    printf("%d\n", FN(_predict)(x, 0, out));                 /* OK: nothing to do */
    printf("%d\n", FN(_predict)(NULL, 1, out));              /* ENULL */
    printf("%d\n", FN(_predict)(x, 1, NULL));                /* ENULL */
    printf("%d\n", FN(_predict_ws)(x, 1, out, NULL));        /* ENULL */
    printf("%d\n", FN(_predict)(x, SIZE_MAX / 2, out));      /* EBATCH */
    char *raw = malloc(FN(_workspace_size)(1) + 16);
    printf("%d\n", FN(_predict_ws)(x, 1, out, raw + 1));    /* EALIGN */
    free(raw);
    x[0] = NAN;
    printf("%d\n", FN(_predict)(x, 1, out));                 /* EMISSING, or OK with impute */
    free(x);
    free(out);
    free(logits);
    return 0;
}
