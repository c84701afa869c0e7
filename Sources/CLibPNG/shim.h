// libpng's simplified API (png_image_*): no setjmp needed, so Swift can call it.
#include <png.h>
