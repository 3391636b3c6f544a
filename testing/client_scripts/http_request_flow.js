// The main flow with Node's http.request, each body sent with write() and no Content-Length
// (so chunked). Usage: node http_request_flow.js BASE EMAIL; prints the answers as JSON.
const http = require("node:http");

function call(base, method, path, { json, form, token } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
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
    const request = http.request(new URL(path, base), { method, headers }, (response) => {
      const parts = [];
      response.on("data", (part) => parts.push(part));
      response.on("end", () => {
        const text = Buffer.concat(parts).toString("utf8");
        resolve({
          status: response.statusCode,
          type: response.headers["content-type"] || null,
          request_id: response.headers["x-request-id"] || null,
          body: text ? JSON.parse(text) : null,
        });
      });
    });
    request.on("error", reject);
    if (body !== undefined) {
      // In two pieces, as a streaming client writes.
      const middle = Math.floor(body.length / 2);
      request.write(body.slice(0, middle));
      request.write(body.slice(middle));
    }
    request.end();
  });
}

async function flow(base, email) {
  const answers = [];
  const send = async (...args) => {
    const answer = await call(base, ...args);
    answers.push(answer);
    return answer.body;
  };
  const password = "password123";
  await send("POST", "/users/", { json: { email, password } });
  const token = (await send("POST", "/login", { form: { username: email, password } })).access_token;
  const post = await send("POST", "/posts/", { json: { title: "matrix", content: "same answers" }, token });
  await send("POST", "/vote/", { json: { post_id: post.id, dir: 1 }, token });
  await send("GET", "/posts/?limit=1", { token });
  await send("GET", `/posts/${post.id}`, { token });
  return answers;
}

const [base, email] = process.argv.slice(2);
flow(base, email).then(
  (answers) => console.log(JSON.stringify(answers)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
