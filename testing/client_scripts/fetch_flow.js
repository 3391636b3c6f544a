// The main flow with the Fetch API: in Node (`node fetch_flow.js BASE EMAIL HEADERS_JSON`, which
// prints the answers as JSON) and in a browser page (after this script is added, `flow(...)`).
async function flow(base, email, extraHeaders) {
  const answers = [];
  async function call(method, path, { json, form, token } = {}) {
    const headers = { ...extraHeaders };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    if (form !== undefined) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const response = await fetch(base + path, { method, headers, body, cache: "no-store" });
    const text = await response.text();
    const answer = {
      status: response.status,
      type: response.headers.get("content-type"),
      request_id: response.headers.get("x-request-id"),
      body: text ? JSON.parse(text) : null,
    };
    answers.push(answer);
    return answer.body;
  }
  const password = "password123";
  await call("POST", "/users/", { json: { email, password } });
  const token = (await call("POST", "/login", { form: { username: email, password } })).access_token;
  const post = await call("POST", "/posts/", { json: { title: "matrix", content: "same answers" }, token });
  await call("POST", "/vote/", { json: { post_id: post.id, dir: 1 }, token });
  await call("GET", "/posts/?limit=1", { token });
  await call("GET", `/posts/${post.id}`, { token });
  return answers;
}

if (typeof process !== "undefined" && typeof require !== "undefined" && require.main === module) {
  const [base, email, headers] = process.argv.slice(2);
  flow(base, email, JSON.parse(headers)).then(
    (answers) => console.log(JSON.stringify(answers)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
