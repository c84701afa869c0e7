// Three things Swift cannot say by itself.
//
// glibc's mallopt (Linux only; see Sources/Tensor/Memory.swift).
#ifdef __linux__
#include <malloc.h>
#endif

// A prefetch hint: asks the CPU to start loading the cache line at `p` now, because the
// code will read it soon (see the packing loops in Sources/Tensor/Kernels/Matmul.swift).
// It changes no value and cannot fault, even past the end of an array.
static inline void diffusion_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

// A spin-wait hint: tells the CPU this thread is polling a flag (x86 `pause`, arm64 `yield`),
// so the loop spends less power and leaves it sooner when the flag changes (the thread pool's
// waits in Sources/Tensor/Kernels/Parallel.swift).
static inline void diffusion_spin_hint(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
