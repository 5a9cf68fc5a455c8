{
  "targets": [
    {
      "target_name": "glasspane_capture",
      "sources": ["capture.c"],
      "cflags": ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lX11", "-lXext", "-lXfixes"]
    }
  ]
}
