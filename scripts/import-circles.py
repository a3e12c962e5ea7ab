#!/usr/bin/env python3
"""Finds import circles between spherelab-core's modules (issue 13: "no import circles").

Every `crate::…` and `super::…` path outside a module's tests is resolved to the deepest module file it names
(the crate's re-exports in lib.rs, such as `crate::config` for `crate::io::config`, are followed); a module
and its children count as one node (a child may use its parent). Prints each edge that lies on a circle and
exits 1 when there is one. Run from the repository root: `python3 scripts/import-circles.py`.
"""
import collections
import os
import re
import sys

ROOT = "crates/core/src"
def reexports():
    """lib.rs's `pub use a::b::{c, d};` and `pub use a::b;`: name -> the path it stands for."""
    out = {}
    for line in open(os.path.join(ROOT, "lib.rs")):
        m = re.match(r"\s*pub use ((?:\w+::)*)\{([^}]*)\};", line)
        if m:
            for name in re.findall(r"\w+", m.group(2)):
                out[name] = m.group(1) + name
            continue
        m = re.match(r"\s*pub use ((?:\w+::)*)(\w+);", line)
        if m:
            out[m.group(2)] = m.group(1) + m.group(2)
    return out


alias = reexports()
files={}
for dp,_,fs in os.walk(ROOT):
    for f in fs:
        if f.endswith('.rs'):
            rel=os.path.relpath(os.path.join(dp,f),ROOT)[:-3]
            mod=rel.replace('/mod','').replace('/','::')
            files[mod]=os.path.join(dp,f)
def resolve(path):
    parts=path.split('::')
    if parts[0] in alias: parts=alias[parts[0]].split('::')+parts[1:]
    best=None
    for i in range(1,len(parts)+1):
        m='::'.join(parts[:i])
        if m in files: best=m
    return best
edges=collections.defaultdict(set)
for mod,p in files.items():
    if mod=='lib': continue
    src=open(p).read()
    m=re.search(r'#\[cfg\(test\)\]\s*(pub\(crate\) )?mod tests',src)
    if m: src=src[:m.start()]
    src='\n'.join(l for l in src.split('\n') if not l.strip().startswith('//'))
    for path in re.findall(r'crate::((?:\w+::)*\w+)',src):
        t=resolve(path)
        if t and t!=mod and not mod.startswith(t+'::') : edges[mod].add(t)
    for pre,grp in re.findall(r'crate::((?:\w+::)*)\{([^}]*)\}',src):
        for name in re.findall(r'(\w+(?:::\w+)*)',grp):
            t=resolve(pre+name)
            if t and t!=mod and not mod.startswith(t+'::'): edges[mod].add(t)
    # super:: uses
    for path in re.findall(r'super::((?:\w+::)*\w+)',src):
        parent='::'.join(mod.split('::')[:-1]) if not p.endswith('mod.rs') else '::'.join(mod.split('::')[:-1])
        t=resolve((parent+'::' if parent else '')+path) if parent else resolve(path)
        if t and t!=mod and not mod.startswith(t+'::'): edges[mod].add(t)
def reach(a):
    seen=set();st=[a]
    while st:
        x=st.pop()
        for y in edges[x]:
            if y not in seen: seen.add(y);st.append(y)
    return seen
n=0
for a in sorted(edges):
    for b in sorted(edges[a]):
        if a in reach(b): print('CYCLE',a,'->',b); n+=1
print(f'{n} edges on import circles' if n else 'no import circles between the modules of spherelab-core')
sys.exit(1 if n else 0)
