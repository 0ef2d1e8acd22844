/* The .igq model file (doc/igq-format.md): constants shared by the writer (igqfile_write.c)
 * and the reader (igqfile_read.c), and their entry points. Private header. */
#ifndef IGQ_IO_IGQFILE_H
#define IGQ_IO_IGQFILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../model/vit.h"
#include "file.h"

#define IGQF_MAGIC "\x89IGQ\r\n\x1a\n"
#define IGQF_MAJOR 1
#define IGQF_MINOR 0
#define IGQF_HEADER 64
#define IGQF_ENTRY 32
#define IGQF_ALIGN 64
#define IGQF_MAX_SECTIONS 256
#define IGQF_GRPH_BYTES 96
#define IGQF_TENSOR_ENTRY 32
#define IGQF_QREC_HEAD 48
#define IGQF_QPARAM 20
#define IGQF_REQUIRED 1u

#define IGQF_TAG(a, b, c, d)                                                                 \
    ((uint32_t)(unsigned char)(a) | (uint32_t)(unsigned char)(b) << 8 |                       \
     (uint32_t)(unsigned char)(c) << 16 | (uint32_t)(unsigned char)(d) << 24)
#define IGQF_GRPH IGQF_TAG('G', 'R', 'P', 'H')
#define IGQF_TDIR IGQF_TAG('T', 'D', 'I', 'R')
#define IGQF_DATA IGQF_TAG('D', 'A', 'T', 'A')
#define IGQF_PREP IGQF_TAG('P', 'R', 'E', 'P')
#define IGQF_QCFG IGQF_TAG('Q', 'C', 'F', 'G')
#define IGQF_QUAN IGQF_TAG('Q', 'U', 'A', 'N')
#define IGQF_PROV IGQF_TAG('P', 'R', 'O', 'V')
#define IGQF_LABL IGQF_TAG('L', 'A', 'B', 'L')
#define IGQF_PPRC IGQF_TAG('P', 'P', 'R', 'C')
#define IGQF_PPRC_BYTES 32

/* Tensor dtypes of the directory. */
enum { IGQF_F32 = 1, IGQF_I32 = 2, IGQF_QS8 = 3, IGQF_QS4 = 4 };

/* Tensor kinds of the directory (doc/igq-format.md). */
enum {
    IGQF_PATCH_W = 1, IGQF_PATCH_B, IGQF_PREFIX, IGQF_POS, IGQF_NORM_W, IGQF_NORM_B,
    IGQF_FC_NORM_W, IGQF_FC_NORM_B, IGQF_HEAD_W, IGQF_HEAD_B, IGQF_HEAD_DIST_W,
    IGQF_HEAD_DIST_B,
    IGQF_LN1_W = 16, IGQF_LN1_B, IGQF_QKV_W, IGQF_QKV_B, IGQF_PROJ_W, IGQF_PROJ_B, IGQF_LS1,
    IGQF_LN2_W, IGQF_LN2_B, IGQF_FC1_W, IGQF_FC1_B, IGQF_FC2_W, IGQF_FC2_B, IGQF_LS2,
    IGQF_ROWSUM = 40, /* + the kind of the weight */
    IGQF_N_KINDS = 70
};

/* Name of a kind for messages ("qkv.weight", "rowsum of fc1.weight" is built by callers);
 * NULL for unknown kinds. */
const char *igq__igqf_kind_name(int kind);

/* 1 if the first bytes of data are the .igq magic. */
static inline int igq__igqf_is_magic(const void *data, size_t size)
{
    return size >= 8 && memcmp(data, IGQF_MAGIC, 8) == 0;
}

static inline int igq__igqf_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char  c;
    memcpy(&c, &one, 1);
    return c == 1;
}

/* Writes m (fp32 or quantized, either executor) to path as a .igq file: into a temporary file
 * beside it, renamed over path once complete. */
igq_status igq__igqf_save(const struct igq_model *m, const char *path);

/* Builds a model from a .igq file in *map, which it takes over (released on failure, owned by
 * the model on success). name is used in messages. IGQ_ERR_FORMAT for anything malformed,
 * IGQ_ERR_UNSUPPORTED on a big-endian host, IGQ_ERR_NO_MEMORY. */
igq_status igq__igqf_load(igq_map *map, const char *name, struct igq_model **out);

#endif
