# SPDX-License-Identifier: MIT
# All compiler warnings of the project, in one place.
function(portex_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
    -Wformat=2 -Wpointer-arith -Wundef)
  if(PORTEX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
