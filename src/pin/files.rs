//! Writing pins back: edits applied to the text as read, the file replaced whole (a
//! symbolic link is followed and its target edited in place only while the target stays in
//! the tree given), and `actions.lock` renamed in step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::actions::Plan;
use super::{PinOutcome, Unresolved, WriteError, lockfile, rewrite};
use crate::inputs::document::Document;
use crate::inputs::input::Input;
use crate::report::InputProblem;

/// Applies one file's plan, writes the file when it changed and records what happened.
pub fn apply(
    input: &Input,
    doc: &Document,
    mut plan: Plan,
    update: bool,
    locks: &mut Locks,
    outcome: &mut PinOutcome,
) -> Result<(), WriteError> {
    if plan.edits.is_empty() {
        return Ok(());
    }
    let original = doc.source.text.as_str();
    let (rewritten, skipped) = rewrite::apply(original, &plan.edits);
    for s in &skipped {
        plan.changes.retain(|c| c.line != s.start.line);
        outcome.unresolved.push(Unresolved {
            file: doc.source.path.clone(),
            line: s.start.line,
            reference: String::new(),
            reason: "the line is not laid out in a way cicd can rewrite safely; pin it by hand"
                .into(),
            external: false,
        });
    }
    // Aliases repeat a reference; its one rewrite is reported once.
    let mut changes = plan.changes;
    changes.sort_by_key(|c| c.line);
    changes.dedup_by(|a, b| a.line == b.line && a.from == b.from);
    if rewritten != original {
        let target = match inside_tree(input) {
            Ok(target) => target,
            Err(problem) => {
                outcome.problems.push(problem);
                return Ok(());
            }
        };
        write(&target, &doc.source.path, rewritten.as_bytes())?;
        outcome.files_written.push(doc.source.path.clone());
        if let Some((key, lock)) = locks.lock_of(&input.path, &mut outcome.notes) {
            for c in &changes {
                lock.rename(&key, &c.from, &c.to, &c.comment);
            }
            if update && lock.workflows.contains_key(&key) {
                outcome.notes.push(format!(
                    "{key} is in actions.lock: run `gh actions-lock` to lock what the updated pins depend on"
                ));
            }
        }
    }
    outcome.changes.extend(changes);
    Ok(())
}

/// The file to write for `input`: the path itself, or where its symbolic links lead when
/// that stays inside the tree the input was found in.
fn inside_tree(input: &Input) -> Result<PathBuf, InputProblem> {
    let problem = |message: String| InputProblem::new(input.shown.clone(), None, message);
    let target = std::fs::canonicalize(&input.path)
        .map_err(|e| problem(format!("could not be resolved: {e}")))?;
    let tree = std::fs::canonicalize(&input.tree).map_err(|e| {
        problem(format!(
            "could not resolve the tree it was found in ({}): {e}",
            input.tree.display()
        ))
    })?;
    if target.starts_with(&tree) {
        return Ok(target);
    }
    Err(problem(format!(
        "leads through a symbolic link to {}, outside {}: not edited (pin the file it points to, or replace the link with a copy)",
        target.display(),
        tree.display()
    )))
}

/// Replaces `path` whole; errors name `shown`, the path the user knows.
fn write(path: &Path, shown: &Path, contents: &[u8]) -> Result<(), WriteError> {
    crate::fs::write_atomically(path, contents).map_err(|source| WriteError {
        path: shown.to_path_buf(),
        source,
    })
}

/// Lockfiles by path: the text read and the parsed file, or why it is left alone.
#[derive(Default)]
pub struct Locks(HashMap<PathBuf, Result<(String, lockfile::Lockfile), ()>>);

impl Locks {
    /// The lockfile beside a workflow (`.github/workflows/actions.lock`) and the workflow's
    /// key in it, loaded once; a lockfile cicd cannot read is noted and never written.
    pub fn lock_of(
        &mut self,
        workflow: &Path,
        notes: &mut Vec<String>,
    ) -> Option<(String, &mut lockfile::Lockfile)> {
        let dir = workflow.parent()?;
        if !dir.ends_with(".github/workflows") {
            return None;
        }
        let key = format!(
            ".github/workflows/{}",
            workflow.file_name()?.to_string_lossy()
        );
        let lock_path = dir.join(lockfile::FILE_NAME);
        let state = self.0.entry(lock_path.clone()).or_insert_with(|| {
            let bytes = crate::fs::read_found(&lock_path, lockfile::MAX_BYTES).map_err(|_| ())?;
            let text = String::from_utf8(bytes).map_err(|_| ())?;
            lockfile::Lockfile::parse(&text)
                .map(|l| (text, l))
                .map_err(|why| {
                    notes.push(format!(
                        "{} left alone ({why}): run `gh actions-lock` after pinning",
                        lock_path.display()
                    ));
                })
        });
        state.as_mut().ok().map(|(_, lock)| (key, lock))
    }

    /// Writes every lockfile whose pins were renamed.
    pub fn write(self, outcome: &mut PinOutcome) -> Result<(), WriteError> {
        for (lock_path, state) in self.0 {
            if let Ok((original, lock)) = state
                && lock.render() != original
            {
                write(&lock_path, &lock_path, lock.render().as_bytes())?;
                outcome.files_written.push(lock_path);
            }
        }
        Ok(())
    }
}
