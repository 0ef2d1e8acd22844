/* PyTorch checkpoints: torch.save zip archives (.pth, .pt, .bin) presented as the same tensor
 * table a safetensors file gives (igq_safetensors), so every naming scheme loads from either.
 * Private header.
 *
 * An archive holds <prefix>/data.pkl (the pickled object, read by the restricted reader of
 * pickle.h) and one stored entry <prefix>/data/<key> per storage. The object must be a dict of
 * tensors (a state dict), or hold one under "state_dict", "model", "model_state_dict" or
 * "module" (one level, or two: {"model": {"state_dict": ...}}); a "module." prefix on every
 * name is removed; values that are not tensors are ignored. Each tensor must be contiguous and
 * lie inside its storage; the table's ranges point straight into the mapped archive (data_start
 * is 0, so begin/end are file offsets, and tensors viewing one storage share bytes): nothing is
 * copied. Only an archive re-zipped with compression (torch.save stores) costs memory: the
 * archive is copied with its deflated storages inflated behind it. The legacy format (torch < 1.6, or _use_new_zipfile_serialization=False) and bare
 * pickles are refused. */
#ifndef IGQ_IO_PTH_H
#define IGQ_IO_PTH_H

#include <stddef.h>

#include "file.h"
#include "safetensors.h"

/* Names tried, in order, for a state dict inside a checkpoint's top-level dict. */
#define IGQ__PTH_WRAPPERS "state_dict", "model", "model_state_dict", "module"

/* 1 if data starts as a zip archive does (a local header, or the end record of an empty one). */
int igq__pth_is_zip(const unsigned char *data, size_t size);

/* 1 if data starts as torch.save's legacy format does (a pickle of its magic number). */
int igq__pth_is_legacy(const unsigned char *data, size_t size);
/* 1 if data starts as a pickle of protocol 2 to 5 does (a safetensors file whose header length
 * starts with the same two bytes is possible: parse it as safetensors first). */
int igq__pth_is_pickle(const unsigned char *data, size_t size);
/* IGQ_ERR_UNSUPPORTED naming path: the legacy format (to be re-saved with a current PyTorch),
 * else a bare pickle. */
igq_status igq__pth_refuse_pickle(const unsigned char *data, size_t size, const char *path);

/* Reads the torch.save archive in map (ownership taken in every case). IGQ_ERR_FORMAT /
 * IGQ_ERR_UNSUPPORTED naming the file and the entry, global, opcode or tensor involved;
 * IGQ_ERR_NO_MEMORY. */
igq_status igq__pth_parse_map(igq_map *map, const char *path, igq_safetensors **out);
/* Same from memory (the buffer is copied); name is used in messages. */
igq_status igq__pth_parse(const void *data, size_t size, const char *name, igq_safetensors **out);

#endif
