import { graphql } from "./gql/index.js";

export const Register = graphql(`
  mutation Register($username: String!, $password: String!) {
    register(username: $username, password: $password) {
      __typename
      ... on AuthSuccess {
        user {
          id
          username
        }
        session
        expiresAt
      }
      ... on UserError {
        code
        message
      }
    }
  }
`);

export const Me = graphql(`
  query Me {
    me {
      id
      username
    }
  }
`);

export const Sessions = graphql(`
  query Sessions {
    sessions {
      id
      createdAt
      lastUsedAt
      userAgent
      current
    }
  }
`);
