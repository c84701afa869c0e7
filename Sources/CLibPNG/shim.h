// libpng's simplified API (png_image_*): no setjmp needed, so Swift can call it.
#include <png.h>

// The simplified API's constants and helpers are C macros. Plain integer macros
// usually import into Swift, but function-like ones (PNG_IMAGE_FAILED,
// PNG_IMAGE_SIZE) never do, so we wrap all the ones Imaging uses here; the Swift
// side then depends on nothing the importer may or may not understand.
static inline png_uint_32 clibpng_image_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 clibpng_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 clibpng_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 clibpng_format_flag_color(void) { return PNG_FORMAT_FLAG_COLOR; }
static inline png_uint_32 clibpng_format_flag_alpha(void) { return PNG_FORMAT_FLAG_ALPHA; }
static inline int clibpng_image_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }
