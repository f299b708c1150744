//! ifind: search and edit the interactions of an Interaction Management System in PostgreSQL.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod csvio;
pub mod db;
pub mod domain;
pub mod logging;
pub mod password;
pub mod private_files;
pub mod seed;
pub mod service;
pub mod tui;
pub mod ui;
