// emergent: one binary, many subcommands.
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/core.h"
#include "kernels/kernels.h"
#include "train/train.h"

typedef struct { const char *name; int (*fn)(int, char **); const char *summary; } Command;
static const Command commands[] = {
    {"train", cmd_train, "train a GPT on a text file, task generators or a mixture"},
    {"generate", cmd_generate, "sample text from a checkpoint (KV cache)"},
    {"params", cmd_params, "parameter count, FLOPs and memory of a config or preset"},
    {"info", cmd_info, "print a checkpoint's config and sizes"},
    {"export", cmd_export, "write a checkpoint as a Hugging Face GPT-2 folder"},
    {"eval", cmd_eval, "score a checkpoint on tasks under every metric"},
    {"ladder", cmd_ladder, "train and evaluate a ladder of model sizes (the main job)"},
    {"inspect", cmd_inspect, "the microscope: logit lens, attention, ablation, patching, vectors"},
    {"contamination", cmd_contamination, "which evaluation items the training data contains (n-gram overlap)"},
    {"w2v", cmd_w2v, "word2vec: skip-gram and CBOW word vectors, neighbours, analogies, eval"},
    {"tokenize", cmd_tokenize, "text to token ids (GPT-2's BPE or one of yours), ids to text"},
    {"bpe", cmd_bpe, "train a byte-level BPE tokenizer (vocab.json + merges.txt)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
    fprintf(f, "emergent %s: train GPT-style models from scratch and measure what emerges\n\n"
               "usage: emergent <command> [flags]   (emergent <command> --help for its flags)\n\n"
               "commands:\n", EMERGENT_VERSION);
    for (const Command *c = commands; c->name; c++) fprintf(f, "  %-14s %s\n", c->name, c->summary);
    fprintf(f, "\n  --version      print the version, kernels and threads\n");
}

static int run(int argc, char **argv);

// Under mpirun every rank runs main; MPI starts (dist.c) and ends around the command.
int main(int argc, char **argv) {
    em_wait_policy(argv);
    if (dist_init(&argc, &argv)) {
        fprintf(stderr, "emergent: error: %s\n", em_errmsg());
        return 1;
    }
    int rc = run(argc, argv);
    dist_finalize();
    return rc;
}

static int run(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        MachineInfo mi;
        char line[512];
        kernels_machine(&mi);
        kernels_machine_line(&mi, line, sizeof line);
        printf("emergent %s\nkernels: %s\nmachine: %s\nmpi: %s\n", EMERGENT_VERSION,
               kernels_describe(), line, dist_describe());
        return 0;
    }
    for (const Command *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name)) continue;
        int rc = c->fn(argc - 2, argv + 2);
        // CMD_REPORTED: failed, and rank 0 printed why
        if (rc != 0 && rc != 130 && rc != CMD_REPORTED) fprintf(stderr, "emergent %s: error: %s\n", c->name, em_errmsg());
        return rc;
    }
    fprintf(stderr, "emergent: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
