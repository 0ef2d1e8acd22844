/* Bounds-checked safetensors reader. Private header.
 * File layout: u64 LE header length N, N bytes of JSON, then the data buffer. Every check the
 * reference reader makes is made here (see ALGORITHMS.md 6.5). Resource bounds: N is at most
 * IGQ_ST_MAX_HEADER; reading the header takes time linear in N and, beyond the file itself,
 * less than 3 N bytes of memory (a header lists at most N / 49 tensors, each of which costs
 * 120 bytes while parsed); nothing is allocated before the whole header has been checked. */
#ifndef IGQ_IO_SAFETENSORS_H
#define IGQ_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "igq/igq.h"
#include "file.h"

#define IGQ_ST_MAX_HEADER 100000000u

typedef enum igq_st_dtype {
    IGQ_ST_BOOL, IGQ_ST_U8, IGQ_ST_I8, IGQ_ST_I16, IGQ_ST_U16, IGQ_ST_F16, IGQ_ST_BF16,
    IGQ_ST_I32, IGQ_ST_U32, IGQ_ST_F32, IGQ_ST_I64, IGQ_ST_U64, IGQ_ST_F64, IGQ_ST_C64,
    IGQ_ST_F8_E4M3, IGQ_ST_F8_E5M2, IGQ_ST_F8_E4M3FNUZ, IGQ_ST_F8_E5M2FNUZ, IGQ_ST_F8_E8M0,
    IGQ_ST_F4, IGQ_ST_F6_E2M3, IGQ_ST_F6_E3M2
} igq_st_dtype;

typedef struct igq_st_tensor {
    const char  *name;   /* points into the parsed header */
    igq_st_dtype dtype;
    int32_t      ndim;   /* 0 = scalar */
    int64_t      shape[IGQ_MAX_DIMS];
    int64_t      numel;
    uint64_t     begin;  /* byte offsets within the data buffer, end exclusive */
    uint64_t     end;
} igq_st_tensor;

typedef struct igq_st_meta {
    const char *key;   /* NUL-terminated; never holds U+0000 */
    const char *value; /* NUL-terminated (a value holding \u0000 reads as what precedes it) */
} igq_st_meta;

typedef struct igq_safetensors {
    char                *path;       /* copy of the file name, for messages ("<memory>") */
    igq_map              map;        /* whole file: mapped (st_open) or an owned copy (st_parse) */
    const unsigned char *buf;        /* map.data: size bytes, read-only, no terminator */
    size_t               size;
    size_t               file_size;  /* the file's bytes (pth.c may append inflated data) */
    size_t               data_start; /* 8 + N */
    char                *strings;    /* every decoded name, key and value, NUL-terminated */
    igq_st_tensor       *tensors;    /* sorted by begin */
    size_t               count;
    igq_st_meta         *metadata;   /* the __metadata__ entries sorted by key; NULL if the
                                        header has no __metadata__ */
    size_t               meta_count;
} igq_safetensors;

/* Maps a whole file read-only and validates it (the tensor data is never copied: readers
 * convert straight from the mapping). Errors: IGQ_ERR_IO (open/map), IGQ_ERR_FORMAT (any
 * structural problem: message names the file and, where one is involved, the tensor),
 * IGQ_ERR_NO_MEMORY. */
igq_status igq__st_open(const char *path, igq_safetensors **out);
/* Same from memory; the buffer is copied. name is used in messages. */
igq_status igq__st_parse(const void *data, size_t size, const char *name, igq_safetensors **out);
void       igq__st_close(igq_safetensors *st);
/* Parses a safetensors file already mapped (takes ownership of map in every case). */
igq_status igq__st_parse_map(igq_map *map, const char *path, igq_safetensors **out);

/* For other containers that present their tensors as this table (pth.c): a new st owning map
 * (in every case) and a copy of name, filled by parse (whose failure closes st). parse sets
 * buf/size-relative ranges with data_start (0: begin/end are offsets in the whole file; tensors
 * may share bytes), strings, and the table through igq__st_alloc_table, then indexes it. */
igq_status igq__st_from_map(igq_map *map, const char *name, igq_status (*parse)(igq_safetensors *),
                            igq_safetensors **out);
/* Allocates st->tensors for count entries plus the name index behind them; sets st->count. */
igq_status igq__st_alloc_table(igq_safetensors *st, size_t count);
/* Builds the name index of the filled table; IGQ_ERR_FORMAT naming a duplicate name. */
igq_status igq__st_index_names(igq_safetensors *st);

const igq_st_tensor *igq__st_find(const igq_safetensors *st, const char *name);
/* The __metadata__ string for key, or NULL. */
const char *igq__st_metadata(const igq_safetensors *st, const char *key);
/* Bits per element of a dtype (4, 6, 8, 16, 32, 64). */
int igq__st_dtype_bits(igq_st_dtype dtype);
const char *igq__st_dtype_name(igq_st_dtype dtype);

/* Converts tensor t (F32, F16 or BF16, little-endian, unaligned data allowed) to f32.
 * count must equal t->numel. Other dtypes: IGQ_ERR_UNSUPPORTED naming file and tensor. */
igq_status igq__st_read_f32(const igq_safetensors *st, const igq_st_tensor *t, float *dst,
                            int64_t count);
/* The caller is done with tensor t's bytes for now: on a mapped file its pages leave the
 * process's resident set (igq__map_drop); reading t again is still valid. */
void igq__st_drop(const igq_safetensors *st, const igq_st_tensor *t);
/* As igq__st_read_f32, transposed: t is viewed as a row-major [rows][cols] matrix (rows * cols
 * must equal t->numel) and element (r, c) goes to dst[c * ld + r] (ld >= rows). Rows of dst
 * beyond rows are left alone, so several tensors can fill column blocks of one matrix. The
 * values are the ones igq__st_read_f32 gives, bit for bit. */
igq_status igq__st_read_f32_transposed(const igq_safetensors *st, const igq_st_tensor *t,
                                       int64_t rows, int64_t cols, float *dst, int64_t ld);

#endif
