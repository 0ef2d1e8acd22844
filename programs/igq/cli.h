/* igq command-line tool: what the subcommands share (argument parsing, error reporting, the
 * progress display, image sources). Uses only <igq/igq.h>, libc and POSIX.
 * SPDX-License-Identifier: MIT */
#ifndef IGQ_CLI_H
#define IGQ_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <igq/igq.h>

/* Exit codes of every subcommand. */
#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* ---- argument parsing ----------------------------------------------------------------------
 * Options are --name VALUE, --name=VALUE, -o VALUE or flags (--name); "--" ends them; anything
 * else is a positional argument, collected in order. */
typedef struct cli_args {
    const char  *cmd;       /* subcommand name, for messages */
    const char  *usage;     /* one-line synopsis, printed with usage errors */
    int          argc;
    char       **argv;
    int          i;         /* next argv index */
    int          only_pos;  /* after "--" */
    const char  *opt;       /* current option name without dashes */
    const char  *inline_val;/* value after '=' of the current option, or NULL */
    const char **pos;       /* positional arguments */
    int          npos;
} cli_args;

int  cli_init(cli_args *a, const char *cmd, const char *usage, int argc, char **argv);
void cli_free(cli_args *a);
/* 1 with a->opt set when an option comes next, 0 when the arguments are exhausted. */
int  cli_next(cli_args *a);
int  cli_is(const cli_args *a, const char *name);
/* The current option's value; NULL (usage message printed) when it is missing. */
const char *cli_value(cli_args *a);
/* The value as an integer in [lo, hi] / a number in [lo, hi]; 0 on success, else the usage
 * message is printed and EXIT_USAGE returned. */
int  cli_int(cli_args *a, int64_t lo, int64_t hi, int64_t *out);
int  cli_double(cli_args *a, double lo, double hi, double *out);
/* A flag given a value (--flag=x) is a usage error. */
int  cli_flag(cli_args *a);
/* Prints "igq CMD: message", the synopsis and a hint; returns EXIT_USAGE. */
int  cli_usage_error(const cli_args *a, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int  cli_unknown(const cli_args *a);

/* Prints "igq CMD: what: <status text>: <igq_last_error()>" to stderr; returns EXIT_FAIL. */
int  cli_lib_error(const char *cmd, const char *what, igq_status s);
/* Prints "igq CMD: message" to stderr; returns EXIT_FAIL. */
int  cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

double cli_now(void); /* monotonic seconds */
/* Loads a model, printing the library's message on failure; 0 on success. */
int    cli_load_model(const char *cmd, const char *path, igq_model **out);

/* ---- progress ------------------------------------------------------------------------------
 * On a terminal (stderr) one line redrawn in place: stage, bar, percent, ETA. Otherwise plain
 * lines at every 10 % step of a stage. quiet: nothing. */
typedef struct cli_progress {
    int    tty, quiet;
    char   stage[40];
    double stage_t0, last_draw;
    int    last_step;
    int    open_line; /* a terminal line is being redrawn */
} cli_progress;

void cli_progress_init(cli_progress *p, int quiet);
void cli_progress_update(cli_progress *p, const char *stage, double fraction);
void cli_progress_end(cli_progress *p);

/* ---- image sources ---------------------------------------------------------------------------
 * An IDX file of 8-bit images ([N][H][W], magic 0x00000803), or a directory of image files
 * (.png .ppm .pgm .pnm .bmp), flat or with one subfolder per class (sorted names = class index).
 * Labels: from the class folders, or set with dataset_load_labels (an IDX labels file, magic
 * 0x00000801, or a text file of one class index per line), one per image in source order;
 * only the first `needed` are required (< 1: all). */
typedef struct dataset {
    int      is_idx;
    int64_t  count;
    /* IDX */
    uint8_t *raw;
    const uint8_t *pixels;
    int64_t  rows, cols;
    /* directory */
    char   **paths;
    char   **classes;   /* class folder names (nclasses), or NULL */
    int64_t  nclasses;
    /* labels: -1 = unknown */
    int64_t *labels;
    int      has_labels;
} dataset;

int  dataset_open(const char *cmd, const char *src, dataset *ds);
/* The checks of an IDX image file's bytes: NULL if they hold [n][rows][cols] 8-bit images
 * after the 16-byte header, else what is wrong. */
const char *idx_images_check(const uint8_t *b, size_t size, int64_t *n, int64_t *rows,
                             int64_t *cols);
/* count labels from a labels file's bytes (b[size] must be a NUL): IDX (magic 0x00000801) or
 * text (one class index per line); 0 on success, else 1 with the reason in msg. */
int  labels_parse(uint8_t *b, size_t size, int64_t count, int64_t *labels, char *msg,
                  size_t msg_size);
int  dataset_load_labels(const char *cmd, dataset *ds, const char *path, int64_t needed);
void dataset_free(dataset *ds);
/* Decodes image i and preprocesses it into image `index` of batch; 0 on success (message
 * printed otherwise). */
int  dataset_preprocess(const char *cmd, const dataset *ds, int64_t i, const igq_model *model,
                        igq_tensor *batch, int64_t index);
/* Loads one image file and preprocesses it into image `index` of batch; 0 on success. */
int  image_file_preprocess(const char *cmd, const char *path, const igq_model *model,
                           igq_tensor *batch, int64_t index);
/* Fills every image of a batch with pseudo-random 8-bit pixels put through the model's
 * preprocessing (deterministic); 0 on success. */
int  bench_fill_batch(const char *cmd, const igq_model *m, igq_tensor *x);
/* A [n, C, H, W] f32 batch tensor for the model. */
igq_status model_batch(const igq_model *model, int64_t n, igq_tensor **out);

/* ---- subcommands ---------------------------------------------------------------------------- */
int cmd_info(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Name of a layer kind / a site / a calibrator / a granularity / an executor. */
const char *kind_name(igq_layer_kind k);
const char *site_name(igq_site s);
const char *granularity_name(igq_granularity g);
const char *calibrator_name(int64_t c);
const char *executor_name(int64_t e);

#endif
