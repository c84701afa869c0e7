// Two things Swift cannot say by itself.
//
// glibc's mallopt (Linux only; see Sources/Tensor/Memory.swift).
#ifdef __linux__
#include <malloc.h>
#endif

// A prefetch hint: asks the CPU to start loading the cache line at `p` now, because the
// code will read it soon (see the packing loops in Sources/Tensor/Kernels/Matmul.swift).
// It changes no value and cannot fault, even past the end of an array.
static inline void diffusion_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
