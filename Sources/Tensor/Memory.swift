// Keeping freed memory for the next training step.
//
// A training step allocates and frees the same few hundred activation buffers, many above
// glibc's default 128 KB "mmap threshold". glibc hands such blocks straight back to the OS on
// free, so the next step's identical allocation page-faults every page in again (measured ~5 %
// of a unet16 step). Raising the threshold (to its 32 MB maximum) and the trim threshold keeps
// them in the process. Darwin's allocator needs nothing here.

#if os(Linux)
import CSupport

let allocatorTuned: Bool = {
    _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
    _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
    return true
}()
#else
let allocatorTuned = true
#endif
