/* Checkpoint → canonical ViT graph. Private header. */
#ifndef IGQ_IO_CHECKPOINT_H
#define IGQ_IO_CHECKPOINT_H

#include "../model/vit.h"

/* Loads a safetensors checkpoint (timm, Hugging Face or torchvision names). */
igq_status igq__checkpoint_load(const char *path, struct igq_model **out);

#endif
