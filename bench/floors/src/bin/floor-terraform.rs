//! The Terraform floor: read the query on stdin, print a prepared answer of the same
//! size as regforge's (the file given as the one argument), exit.

use std::io::{Read, Write};

fn main() {
    let answer = std::env::args().nth(1).expect("usage: floor-terraform ANSWER_FILE");
    let mut query = Vec::new();
    std::io::stdin().read_to_end(&mut query).expect("stdin");
    let bytes = std::fs::read(answer).expect("the answer file");
    std::io::stdout().write_all(&bytes).expect("stdout");
}
