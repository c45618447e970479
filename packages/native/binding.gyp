{
  "targets": [
    {
      "target_name": "nimbus_native",
      "sources": ["src/module.c", "src/mount.c", "src/spawn.c", "src/seqpacket.c", "src/inotify.c", "src/confined.c", "src/netsock.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
