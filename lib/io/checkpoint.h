/* Checkpoint → canonical ViT graph. Private header. */
#ifndef IGQ_IO_CHECKPOINT_H
#define IGQ_IO_CHECKPOINT_H

#include "../model/vit.h"

/* Loads a checkpoint (timm, Hugging Face or torchvision names): safetensors, or a torch.save zip
 * archive (.pth, .pt, .bin; pth.h), told apart by content. */
igq_status igq__checkpoint_load(const char *path, struct igq_model **out);

#endif
