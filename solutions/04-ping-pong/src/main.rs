fn main() { todo!("placeholder") }
