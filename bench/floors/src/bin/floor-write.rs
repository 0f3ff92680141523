//! The fleet floor: write the files a manifest on stdin names (`SIZE PATH` per line,
//! paths relative to the output folder), each that many bytes, with std::fs::write.

use std::io::Read;
use std::path::Path;

fn main() {
    let out = std::env::args().nth(1).expect("usage: floor-write OUT_DIR < MANIFEST");
    let out = Path::new(&out);
    let mut manifest = String::new();
    std::io::stdin().read_to_string(&mut manifest).expect("stdin");
    let mut made = std::collections::HashSet::new();
    for line in manifest.lines() {
        let (size, path) = line.split_once(' ').expect("SIZE PATH");
        let path = out.join(path);
        let parent = path.parent().expect("a parent").to_path_buf();
        if made.insert(parent.clone()) {
            std::fs::create_dir_all(&parent).expect("a folder");
        }
        let size: usize = size.parse().expect("a size");
        std::fs::write(&path, vec![b'x'; size]).expect("a file");
    }
}
