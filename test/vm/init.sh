#!/bin/busybox sh
# /init of the vpcnet test VM: mounts the basics, loads the modules listed by the builder,
# mounts the source tree (virtio-9p, read-only), runs the in-VM test script and powers off.
# Lines starting with VPCNET- on the console are read by test/vm/qemu.ts.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mkdir -p /run/netns /var && ln -s /run /var/run
echo "VPCNET-BOOTED $(cut -d' ' -f1 /proc/uptime)"

for m in $(cat /lib/modules/load-order); do
  insmod "/lib/modules/$m" || echo "VPCNET-ERROR insmod $m failed"
done
ip link set lo up

src=; mods=; script=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vpcnet.src=*) src="${arg#vpcnet.src=}" ;;
    vpcnet.mods=*) mods="${arg#vpcnet.mods=}" ;;
    vpcnet.run=*) script="${arg#vpcnet.run=}" ;;
  esac
done
mkdir -p "$src" && mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose vpcsrc "$src" || echo "VPCNET-ERROR mount of the source tree failed"
if [ -n "$mods" ]; then
  mkdir -p "$mods" && mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose vpcmods "$mods" || echo "VPCNET-ERROR mount of node_modules failed"
fi
echo "VPCNET-READY $(cut -d' ' -f1 /proc/uptime)"
cd "$src" && node "$script"
echo "VPCNET-EXIT $? $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
