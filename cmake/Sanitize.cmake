# SPDX-License-Identifier: MIT
# PORTEX_SANITIZE=address;undefined or thread: applied to every target.
if(PORTEX_SANITIZE)
  string(REPLACE ";" "," _px_san "${PORTEX_SANITIZE}")
  add_compile_options(-fsanitize=${_px_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_px_san})
endif()
