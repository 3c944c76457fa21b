//! The shmlab grader. (Crate docs: to be written with the design.)

pub mod proc_shm;
pub mod sandbox;
pub mod scenario;
