// Keeping freed memory for the next training step.
//
// A training step allocates and frees the same few hundred activation buffers, many above
// glibc's default 128 KB "mmap threshold". glibc hands such blocks straight back to the OS on
// free, so the next step's identical allocation page-faults every page in again (measured ~5 %
// of a unet16 step). Raising the threshold (to its 32 MB maximum) keeps them in the heap, and
// turning trimming off keeps the heap itself: with a 256 MB trim threshold, a unet32 step at 2
// threads sometimes freed enough at the heap's top for glibc to give it back, and the next step
// faulted it in again (5,400 to 15,800 page faults a step in 3 of 6 runs, at about 0.6 µs a page;
// 0 to 170 in 6 runs without trimming). The process keeps its peak heap until it exits.
// Darwin's allocator needs nothing here.

#if os(Linux)
import CSupport

let allocatorTuned: Bool = {
    _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
    _ = mallopt(M_TRIM_THRESHOLD, Int32.max)  // never trim
    return true
}()
#else
let allocatorTuned = true
#endif
