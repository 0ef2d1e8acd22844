/* igq: the libigq command-line tool (doc/cli.md).
 *   igq info | quantize | eval | run | bench | report ...
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *what;
} commands[] = {
    {"info", cmd_info, "architecture, preprocessing, labels, quantizers, sizes of a model"},
    {"quantize", cmd_quantize, "post-training quantization (IGQ) of a checkpoint into a .igq file"},
    {"eval", cmd_eval, "top-1 / top-5 accuracy on an IDX file or a folder of images"},
    {"run", cmd_run, "classify image files (top-K labels with probabilities)"},
    {"bench", cmd_bench, "inference speed: ms/image and images/s"},
    {"report", cmd_report, "per-layer profile, roofline and group assignment (table + SVG)"},
};

static void usage(FILE *f)
{
    size_t i;
    fprintf(f, "usage: igq COMMAND [options] ...\n"
               "       igq COMMAND --help | igq --help | igq --version\n\n"
               "libigq %s: quantize Vision Transformers with instance-aware group quantization\n"
               "and run them with integer kernels.\n\ncommands:\n",
            igq_version_string());
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "\nMODEL is a safetensors checkpoint (timm, Hugging Face, torchvision ViT/DeiT) or a\n"
               ".igq file. Exit status: 0 success, 1 failure, 2 usage error. See doc/cli.md.\n");
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("igq %s (libigq %s, ISA %s)\n", igq_version_string(), igq_version_string(),
               igq_active_isa());
        return EXIT_OK;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "igq: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
