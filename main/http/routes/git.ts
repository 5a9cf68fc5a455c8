import type { Git } from "../../git/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/workspace.js";

const tags = ["git"];

/** `/v1/git/*`: git over a repository folder resolved like the file API's paths. */
export function registerGitRoutes(app: App, git: Git) {
  app.post("/v1/git/init", { schema: { tags, summary: "git init (the folder is created when missing)", body: S.GitInitRequest, response: { 200: S.GitInitResponse } } }, (req) => git.init(req.body));
  app.post("/v1/git/clone", { schema: { tags, summary: "git clone into a new or empty folder, with depth and branch", body: S.GitCloneRequest, response: { 200: S.GitCloneResponse } } }, (req) => git.clone(req.body));
  app.post("/v1/git/status", { schema: { tags, summary: "Branch, ahead/behind, staged, unstaged and untracked files", body: S.GitStatusRequest, response: { 200: S.GitStatusResponse } } }, (req) => git.status(req.body));
  app.post("/v1/git/exec", { schema: { tags, summary: "Run git with the given arguments (timeout, capped output); a non-zero exit is a 422 problem", body: S.GitExecRequest, response: { 200: S.GitExecResponse } } }, (req) => git.exec(req.body));
}
