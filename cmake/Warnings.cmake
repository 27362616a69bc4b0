# Warning set and sanitizers applied to every wattprint target through wattprint_options.
add_library(wattprint_options INTERFACE)
target_compile_options(wattprint_options INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough)
if(WATTPRINT_WERROR)
  target_compile_options(wattprint_options INTERFACE -Werror)
endif()
if(WATTPRINT_SANITIZE)
  target_compile_options(wattprint_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(wattprint_options INTERFACE -fsanitize=address,undefined)
endif()
