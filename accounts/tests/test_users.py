import pytest

pytestmark = pytest.mark.django_db


def test_get_user_by_id(api_client, user):
    for path in (f"/users/{user.pk}", f"/users/{user.pk}/"):
        response = api_client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body == {"id": user.pk, "email": "owner@example.com", "created_at": body["created_at"]}
        assert body["created_at"].endswith(("Z", "+00:00"))


def test_missing_user_is_404(api_client, user):
    response = api_client.get(f"/users/{user.pk + 1}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"User with id: {user.pk + 1} does not exist"}


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999"])
def test_bad_user_id_is_422(api_client, bad_id):
    response = api_client.get(f"/users/{bad_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]
