/* Integer GEMM, AVX-512 VNNI (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma;
 * reached only through the dispatch table): u8 activations x qs8 / qs4 packed weights ->
 * int32, igq_qgemm_fn (kernels.h), bit-exact with igq__qs8_gemm__scalar. The driver is
 * qgemm_driver.h, its zmm instance (6 x 64 tile, 16c4 staging) qs8_avx512_inl.h.
 *
 * Blocking: for each 64-column panel and each k block of up to KC = 384 A columns, the block
 * is staged into a 24 KiB stack buffer (L1) and reused by every 6-row tile; the A block
 * (MC x KC, MC = 1536) stays in L2; C tiles are stored after the first k block and accumulated
 * by later ones.
 * bench_gemm_q8 (this host, 1 thread): 85-95 % of the measured zmm vpdpbusd peak at M = 197;
 * shapes whose weights + C exceed L2 (K 768 x N 2304/3072, and M = 394) are the low end. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "qs8_avx512_inl.h"

IGQ_QGEMM_ENTRIES(igq__qs8_gemm_6x64c4__avx512vnni, igq__qs4_gemm_6x64c4__avx512vnni, qgemm)

#else
typedef int igq_qs8_gemm_avx512vnni_empty; /* ISO C forbids an empty translation unit */
#endif
