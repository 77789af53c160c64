#!/usr/bin/env python3
"""events-diff: run the same writes on two servers and compare, per command, the dirty delta
(INFO rdb_changes_since_last_save) and the __keyevent@*__ notifications.
usage: events-diff.py PORT_A PORT_B FILE (one command per line, # comments)."""
import socket, sys, shlex, time
def enc(a):
    return b"*%d\r\n"%len(a)+b"".join(b"$%d\r\n%s\r\n"%(len(x),x) for x in a)
class C:
    def __init__(s,port):
        s.s=socket.create_connection(("127.0.0.1",port)); s.f=s.s.makefile('rb')
    def rd(s):
        l=s.f.readline(); t=l[:1]; r=l[1:-2]
        if t in b'*>':
            n=int(r); return None if n<0 else [s.rd() for _ in range(n)]
        if t==b'$':
            n=int(r)
            if n<0: return None
            return s.f.read(n+2)[:-2].decode('latin1')
        if t==b':': return int(r)
        return r.decode()
    def call(s,*a):
        s.s.sendall(enc([x.encode() for x in a])); return s.rd()
def dirty(c):
    info=c.call("info","persistence")
    for line in info.split("\r\n"):
        if line.startswith("rdb_changes_since_last_save:"): return int(line.split(":")[1])
def run(port, cmds):
    c=C(port); sub=C(port)
    c.call("flushall"); c.call("config","set","notify-keyspace-events","KEA")
    sub.call("psubscribe","__keyevent*")
    out=[]
    for line in cmds:
        d0=dirty(c); r=c.call(*shlex.split(line)); d1=dirty(c)
        evs=[]
        time.sleep(0.02)
        sub.s.sendall(enc([b"ping"]))
        while True:
            m=sub.rd()
            if m[0]=="pong": break
            evs.append(m[2].split(":",1)[1]+"("+m[3]+")")
        out.append((line, d1-d0, evs))
    c.call("config","set","notify-keyspace-events","")
    return out
cmds=[l.strip() for l in open(sys.argv[3]) if l.strip() and not l.startswith('#')]
a=run(int(sys.argv[1]),cmds); b=run(int(sys.argv[2]),cmds)
bad=0
for x,y in zip(a,b):
    if x!=y: bad+=1; print("DIFF",x,"\n    ",y)
print(len(a)-bad,"same",bad,"different")
